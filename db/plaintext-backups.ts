import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Copies of the database taken before migration 0004 sealed personal data hold names, ID numbers
 * and card numbers in plain text. They are the way back if that migration went wrong, so they are
 * kept until the sealed database has proved itself (a successful sync with the centre) or for two
 * weeks, whichever comes first; then they are deleted. Later backups hold only sealed data.
 */

/** The last migration whose backup (taken before it ran) still holds plain text. */
const LAST_PLAINTEXT_MIGRATION = 4

export const PLAINTEXT_BACKUP_DAYS = 14

const BACKUP_NAME = /^counter-(\d{8}T\d{6}Z)-before-(\d{4})_[\w-]+\.sqlite3$/

/** When a backup was taken, if the file is a backup taken before personal data was sealed; null otherwise. */
export function plaintextBackupTakenAt(fileName: string): Date | null {
  const match = BACKUP_NAME.exec(fileName)
  if (!match || Number(match[2]) > LAST_PLAINTEXT_MIGRATION) return null
  const [, stamp] = match
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`
  const at = new Date(iso)
  return Number.isNaN(at.getTime()) ? null : at
}

/** Deletes the plain-text backups (all, or only those taken before `takenBefore`); how many went. */
export async function removePlaintextBackups(
  backupDir: string,
  options: { takenBefore?: Date } = {}
): Promise<number> {
  let names: string[]
  try {
    names = await readdir(backupDir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    const takenAt = plaintextBackupTakenAt(name)
    if (takenAt === null || (options.takenBefore !== undefined && takenAt >= options.takenBefore)) continue
    await rm(join(backupDir, name), { force: true })
    removed += 1
  }
  return removed
}
