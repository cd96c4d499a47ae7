import { mkdir, copyFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../support/helpers'

const require = createRequire(import.meta.url)
const checkPackagedSqlite = require('../../../scripts/check-native-arch.cjs') as ((context: {
  appOutDir: string
  arch: number
  electronPlatformName: string
}) => void) & {
  binaryArch(file: string): string | null
}
const builtAddon = join(
  dirname(require.resolve('sqlite3/package.json')),
  'build',
  'Release',
  'node_sqlite3.node'
)

/** A packaged app folder holding the sqlite3 binary this machine built. */
async function packagedApp(): Promise<string> {
  const appOutDir = await tempDir()
  const target = join(
    appOutDir,
    'resources',
    'app.asar.unpacked',
    'node_modules',
    'sqlite3',
    'build',
    'Release'
  )
  await mkdir(target, { recursive: true })
  await copyFile(builtAddon, join(target, 'node_sqlite3.node'))
  return appOutDir
}

const ARCH = { ia32: 0, x64: 1, armv7l: 2, arm64: 3 } as const

describe('packaging refuses a sqlite3 binary for the wrong CPU', () => {
  it('reads the CPU of the sqlite3 binary built here', () => {
    expect(checkPackagedSqlite.binaryArch(builtAddon)).toBe(arch())
  })

  it('passes a package for this machine’s CPU and refuses one for another', async () => {
    const appOutDir = await packagedApp()
    const here = arch() === 'arm64' ? ARCH.arm64 : ARCH.x64
    const other = here === ARCH.x64 ? ARCH.arm64 : ARCH.x64
    expect(() => checkPackagedSqlite({ appOutDir, arch: here, electronPlatformName: 'linux' })).not.toThrow()
    expect(() => checkPackagedSqlite({ appOutDir, arch: other, electronPlatformName: 'linux' })).toThrow(
      /请在 (arm64|x64) 机器上执行 npm ci 后再打包/
    )
  })

  it('reads a Windows (PE) header too, and refuses a file that is no binary', async () => {
    const dir = await tempDir()
    const pe = Buffer.alloc(512)
    pe.write('MZ', 0, 'latin1')
    pe.writeUInt32LE(0x80, 0x3c)
    pe.writeUInt32BE(0x50450000, 0x80)
    pe.writeUInt16LE(0x8664, 0x84)
    await writeFile(join(dir, 'x64.node'), pe)
    expect(checkPackagedSqlite.binaryArch(join(dir, 'x64.node'))).toBe('x64')
    await writeFile(join(dir, 'text.node'), 'not a binary')
    expect(checkPackagedSqlite.binaryArch(join(dir, 'text.node'))).toBeNull()
  })
})
