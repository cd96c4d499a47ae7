import { z } from 'zod'

/**
 * A terminal's printers: the receipt printer (an 80 mm roll) and the A4 printer, chosen from the
 * system's printers under Electron; what prints without asking; and the office's stub.
 */
const printerName = z.string().trim().min(1).max(200).nullable()

export const printerSettingsSchema = z.strictObject({
  /** The system printer receipts go to; null: the system's default printer. */
  receiptPrinter: printerName,
  /** The system printer A4 (a receipt on A4, reports) goes to; null: the system's default. */
  a4Printer: printerName,
  /** As soon as a sale is done, its receipt (the customer's copy) prints to the receipt printer, no dialog. */
  autoPrintReceipt: z.boolean(),
  /** After the customer's copy, a short stub for the office's file (transaction, time, amount, masked payer). */
  officeStub: z.boolean()
})

export type PrinterSettings = z.infer<typeof printerSettingsSchema>

export const DEFAULT_PRINTER_SETTINGS: PrinterSettings = {
  receiptPrinter: null,
  a4Printer: null,
  autoPrintReceipt: false,
  officeStub: false
}

/** One of the system's printers, as the shell lists them (Electron's `getPrintersAsync`). */
export interface PrinterView {
  readonly name: string
  readonly displayName: string
  readonly description: string
}

/** What the shell prints: the page as prepared, to a printer, with or without the system dialog. */
export const printJobSchema = z.strictObject({
  /** null: the system default printer. */
  deviceName: printerName,
  /** No dialog: straight to `deviceName`. */
  silent: z.boolean(),
  /** The paper: an 80 mm roll of the receipt's length (micrometres), or A4. */
  page: z.union([
    z.literal('A4'),
    z.strictObject({
      widthMicrons: z.int().min(50_000).max(120_000),
      heightMicrons: z.int().min(20_000).max(5_000_000)
    })
  ])
})

export type PrintJob = z.infer<typeof printJobSchema>
