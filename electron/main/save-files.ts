import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import { SAVE_FILE_CHANNEL, SAVE_PDF_CHANNEL } from '../../core/api/channel'
import type { SavedFile } from '../../core/api/contract'
import { fail, type Result } from '../../core/errors'
import { safeFileName as windowsSafeName } from '../../core/report/document'

/** What saving needs of Electron, handed in so it can be tested without Electron. */
export interface SaveFileShell {
  /** The system save dialog, for the window that asked; undefined path when cancelled. */
  chooseFile(
    event: IpcMainInvokeEvent,
    options: { defaultPath: string; filters: Array<{ name: string; extensions: string[] }> }
  ): Promise<string | undefined>
  /** The page as shown, printed by Chromium with its print styles and CSS page size (A4, margins, page boxes). */
  printToPdf(event: IpcMainInvokeEvent): Promise<Uint8Array>
  /** The folder the dialog opens in (the operator's documents). */
  readonly defaultDir: string
}

/** Exports the renderer may save: a report's PDF, Excel workbook or CSV. Nothing else is written. */
const KINDS: Record<string, { name: string; extensions: string[] }> = {
  pdf: { name: 'PDF 文件', extensions: ['pdf'] },
  xlsx: { name: 'Excel 工作簿', extensions: ['xlsx'] },
  csv: { name: 'CSV 文件（逗号分隔）', extensions: ['csv'] },
  // The queue for the centre (sealed to its key): files.exportQueue.
  ndjson: { name: '待上传文件', extensions: ['ndjson'] }
}

/** An export is a few hundred kilobytes; anything near this is not one. */
const MAX_FILE_BYTES = 50 * 1024 * 1024

/**
 * A file name the page suggested, made harmless: no folder part, none of the characters Windows
 * refuses, not empty, and the expected extension. The operator still chooses where it goes.
 */
export function safeFileName(suggested: string, extension: string): string {
  const base = suggested.split(/[\\/]/).pop() ?? ''
  const cleaned = windowsSafeName(base)
    .replace(/^[.\s]+/, '')
    .slice(0, 120)
  const stem = cleaned.toLowerCase().endsWith(`.${extension}`)
    ? cleaned.slice(0, -(extension.length + 1))
    : cleaned
  return `${stem || '报表'}.${extension}`
}

/**
 * The two IPC handlers for saving, answered only for the app's own page. A PDF is printed from the
 * page that asked; an export's bytes come from the page (the service made them). Either way the
 * operator picks the place in the system's dialog, and a failure to write is said in Chinese.
 */
export function registerFileSaving(
  ipcMain: IpcMain,
  shell: SaveFileShell,
  isTrusted: (event: IpcMainInvokeEvent) => boolean
): void {
  async function save(
    event: IpcMainInvokeEvent,
    fileName: string,
    extension: string,
    bytes: () => Promise<Uint8Array>
  ): Promise<Result<SavedFile>> {
    const path = await shell.chooseFile(event, {
      defaultPath: join(shell.defaultDir, safeFileName(fileName, extension)),
      filters: [KINDS[extension]]
    })
    if (path === undefined) return { ok: true, value: { saved: false } }
    try {
      await writeFile(path, await bytes())
      return { ok: true, value: { saved: true, path } }
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? `（${String(error.code)}）` : ''
      return fail('INTERNAL', `文件没有保存：无法写入所选位置${reason}，请换一个位置再试`)
    }
  }

  ipcMain.handle(SAVE_PDF_CHANNEL, async (event, fileName: unknown): Promise<Result<SavedFile>> => {
    if (!isTrusted(event)) return fail('FORBIDDEN', '此页面无权保存文件')
    if (typeof fileName !== 'string') return fail('INVALID_ARGUMENT', '文件名不正确')
    return save(event, fileName, 'pdf', () => shell.printToPdf(event))
  })

  ipcMain.handle(
    SAVE_FILE_CHANNEL,
    async (event, fileName: unknown, base64: unknown): Promise<Result<SavedFile>> => {
      if (!isTrusted(event)) return fail('FORBIDDEN', '此页面无权保存文件')
      if (typeof fileName !== 'string' || typeof base64 !== 'string')
        return fail('INVALID_ARGUMENT', '文件名或内容不正确')
      const extension = fileName.split('.').pop()?.toLowerCase() ?? ''
      // Own keys only: `in` would let `constructor` and the other Object.prototype names through.
      if (extension === 'pdf' || !Object.hasOwn(KINDS, extension))
        return fail('INVALID_ARGUMENT', '只能保存 Excel（.xlsx）、CSV 或待上传（.ndjson）文件')
      if (base64.length > (MAX_FILE_BYTES / 3) * 4 + 4) return fail('INVALID_ARGUMENT', '文件过大，没有保存')
      return save(event, fileName, extension, () => Promise.resolve(Buffer.from(base64, 'base64')))
    }
  )
}
