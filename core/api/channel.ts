/** The one IPC channel the preload bridge uses for calls; kept apart so the preload bundle stays tiny. */
export const API_CHANNEL = 'counter:api'

/** The shell's own two jobs the services cannot do: print the page to a PDF file, save bytes to a file. */
export const SAVE_PDF_CHANNEL = 'counter:save-pdf'
export const SAVE_FILE_CHANNEL = 'counter:save-file'

/** The system's printers, and a print of the page as prepared, to one of them (silently, or with the dialog). */
export const PRINTERS_CHANNEL = 'counter:printers'
export const PRINT_CHANNEL = 'counter:print'

/** A sync package chosen in the system's open dialog, staged for `files.importPackage`. */
export const CHOOSE_PACKAGE_CHANNEL = 'counter:choose-package'

/**
 * The customer-facing screen (a second display): the counter's window asks for the card password
 * there (`ASK`); the customer's window reads what to show (`REQUEST`) and hands back the sealed
 * block (`SUBMIT`). The digits never cross: only the block the customer's window sealed.
 */
export const CUSTOMER_PIN_ASK_CHANNEL = 'counter:customer-pin-ask'
export const CUSTOMER_PIN_REQUEST_CHANNEL = 'counter:customer-pin-request'
export const CUSTOMER_PIN_SUBMIT_CHANNEL = 'counter:customer-pin-submit'
