/** The one IPC channel the preload bridge uses for calls; kept apart so the preload bundle stays tiny. */
export const API_CHANNEL = 'counter:api'

/** The shell's own two jobs the services cannot do: print the page to a PDF file, save bytes to a file. */
export const SAVE_PDF_CHANNEL = 'counter:save-pdf'
export const SAVE_FILE_CHANNEL = 'counter:save-file'
