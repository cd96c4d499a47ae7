import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Caller, ExportedQueueView, ImportedPackageView } from '../../core/api/contract'
import { AppError } from '../../core/errors'
import { shanghaiDateTimeCompact, type Clock } from '../../core/time'
import type { Sync } from './sync'

/**
 * The agent's files in the app (docs/sync.md, "By file"): the queue exported to a file the
 * operator saves, and a sync package the operator chose (Electron: the system dialog; browser mode:
 * an upload) staged here and imported with the same checks as the CLI's.
 */
export interface FileExchange {
  exportQueue(caller: Caller): Promise<ExportedQueueView>
  /** Electron: the package the operator chose in the system dialog, imported from where it is. */
  stagePath(path: string): string
  /** Browser mode: the upload's bytes, kept in the data folder until imported. */
  receive(body: Readable, maxBytes: number): Promise<string>
  importPackage(caller: Caller, uploadId: string): Promise<ImportedPackageView>
}

/** A package of a million accounts is about 600 MB; anything much bigger is not one. */
export const MAX_PACKAGE_BYTES = 2 * 1024 * 1024 * 1024

function mayExchangeFiles(caller: Caller): void {
  // Window clerks work online; the agent on home visits and the supervisor move files.
  if (caller.role === 'clerk') throw new AppError('FORBIDDEN', '文件交换由上门服务专员或主管办理')
}

export function createFileExchange(deps: {
  sync: Pick<Sync, 'exportQueue' | 'importPackage'>
  dataDir: string
  clock: Clock
  terminalId: string
}): FileExchange {
  const incoming = join(deps.dataDir, 'incoming')
  const staged = new Map<string, { path: string; owned: boolean }>()
  // Uploads an earlier run left behind (it stopped before importing them) are not kept.
  const cleared = rm(incoming, { recursive: true, force: true }).catch(() => undefined)

  return {
    async exportQueue(caller) {
      mayExchangeFiles(caller)
      const folder = await mkdtemp(join(tmpdir(), 'counter-queue-'))
      try {
        const file = join(folder, 'queue.ndjson')
        const exported = await deps.sync.exportQueue(file)
        return {
          fileName: `待上传-${deps.terminalId}-${shanghaiDateTimeCompact(deps.clock.now())}.ndjson`,
          mimeType: 'application/x-ndjson',
          base64: (await readFile(file)).toString('base64'),
          items: exported.items,
          totalFen: exported.totalFen
        }
      } finally {
        await rm(folder, { recursive: true, force: true })
      }
    },

    stagePath(path) {
      const id = randomUUID()
      staged.set(id, { path, owned: false })
      return id
    },

    async receive(body, maxBytes) {
      await cleared
      await mkdir(incoming, { recursive: true })
      const id = randomUUID()
      const path = join(incoming, `${id}.package`)
      let size = 0
      try {
        await pipeline(
          body,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              size += chunk.length
              if (size > maxBytes) throw new AppError('FILE_REFUSED', '文件过大，不是同步包')
              yield chunk
            }
          },
          createWriteStream(path)
        )
      } catch (error) {
        await rm(path, { force: true })
        throw error instanceof AppError ? error : new AppError('FILE_REFUSED', '文件没有传完，请重新选择')
      }
      staged.set(id, { path, owned: true })
      return id
    },

    async importPackage(caller, uploadId) {
      mayExchangeFiles(caller)
      const file = staged.get(uploadId)
      if (!file) throw new AppError('FILE_REFUSED', '没有这个待导入的文件：请重新选择同步包')
      staged.delete(uploadId)
      try {
        return await deps.sync.importPackage(file.path)
      } finally {
        if (file.owned) await rm(file.path, { force: true })
      }
    }
  }
}
