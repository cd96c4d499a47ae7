import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import { PRINT_CHANNEL, PRINTERS_CHANNEL } from '../../core/api/channel'
import { fail, type Result } from '../../core/errors'
import { printJobSchema, type PrintJob, type PrinterView } from '../../core/printing'

/** What printing needs of Electron, handed in so it can be tested without Electron. */
export interface PrintShell {
  /** The system's printers, for the window that asked (`webContents.getPrintersAsync`). */
  printers(event: IpcMainInvokeEvent): Promise<readonly PrinterView[]>
  /**
   * Prints the asking page (`webContents.print`), as its print styles lay it out: resolves when
   * Chromium has handed the job to the printer, or with the reason it did not.
   */
  print(
    event: IpcMainInvokeEvent,
    job: PrintJob
  ): Promise<{ readonly printed: true } | { readonly printed: false; readonly reason: string }>
}

/** Chromium's reasons, in the operator's words. */
function failureText(reason: string): string {
  if (/cancel/i.test(reason)) return '已取消打印'
  if (/invalid deviceName|printer/i.test(reason)) return '打印机不可用：请在“设置 → 打印机”中检查或重新选择'
  return '打印没有完成：请检查打印机是否开机、有纸、已连接'
}

/**
 * The two IPC handlers for printers, answered only for the app's own page: the list, and a print of
 * the page as the renderer prepared it (print root, page rule) to a printer, silently or with the
 * system dialog. A silent print goes only to a printer the system lists (or its default).
 */
export function registerPrinting(
  ipcMain: IpcMain,
  shell: PrintShell,
  isTrusted: (event: IpcMainInvokeEvent) => boolean
): void {
  ipcMain.handle(PRINTERS_CHANNEL, async (event): Promise<Result<readonly PrinterView[]>> => {
    if (!isTrusted(event)) return fail('FORBIDDEN', '此页面无权使用打印机')
    try {
      return { ok: true, value: await shell.printers(event) }
    } catch {
      return fail('INTERNAL', '无法读取本机的打印机列表')
    }
  })

  ipcMain.handle(PRINT_CHANNEL, async (event, raw: unknown): Promise<Result<{ printed: true }>> => {
    if (!isTrusted(event)) return fail('FORBIDDEN', '此页面无权使用打印机')
    const parsed = printJobSchema.safeParse(raw)
    if (!parsed.success) return fail('INVALID_ARGUMENT', '打印参数不正确')
    const job = parsed.data
    if (job.deviceName !== null) {
      const known = await shell.printers(event).catch(() => [])
      if (!known.some((printer) => printer.name === job.deviceName))
        return fail('PRINT_FAILED', `找不到打印机“${job.deviceName}”：请在“设置 → 打印机”中重新选择`)
    }
    const outcome = await shell.print(event, job)
    return outcome.printed
      ? { ok: true, value: { printed: true } }
      : fail('PRINT_FAILED', failureText(outcome.reason))
  })
}
