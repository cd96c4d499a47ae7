import type { SavedFile } from '@core/api/contract'
import { fail, type Result } from '@core/errors'

/**
 * Saving what the supervisor prints and exports. Under Electron the shell shows the system's save
 * dialog (and prints the PDF itself); in browser mode the browser's own print dialog (which offers
 * 另存为 PDF) and its downloads do the job.
 */

/** The page as shown, to a PDF file; `null` when the browser's print dialog was opened instead. */
export async function savePagePdf(fileBaseName: string): Promise<Result<SavedFile> | null> {
  if (window.counter?.savePdf) return window.counter.savePdf(`${fileBaseName}.pdf`)
  window.print()
  return null
}

/** An export the service made (base64), to a file. */
export async function saveExport(file: {
  fileName: string
  mimeType: string
  base64: string
}): Promise<Result<SavedFile> | null> {
  if (window.counter?.saveFile) return window.counter.saveFile(file.fileName, file.base64)
  try {
    const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0))
    const url = URL.createObjectURL(new Blob([bytes], { type: file.mimeType }))
    const link = Object.assign(document.createElement('a'), { href: url, download: file.fileName })
    document.body.append(link)
    link.click()
    link.remove()
    setTimeout(() => URL.revokeObjectURL(url), 60_000)
    return null
  } catch {
    return fail('INTERNAL', '文件没有保存：浏览器无法生成下载')
  }
}
