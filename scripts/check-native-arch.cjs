// @ts-check
/**
 * electron-builder `afterPack` hook. sqlite3 is a native addon built for the machine that ran
 * `npm ci`, and `npmRebuild` is off (N-API needs no rebuild for Electron, and the rebuild would need
 * Electron's headers). So a package for another CPU would carry the wrong binary and fail at start.
 * This refuses such a package at build time: package arm64 on an arm64 machine.
 */
const { closeSync, openSync, readSync } = require('node:fs')
const { join } = require('node:path')

/** electron-builder's Arch enum. */
const ARCH_NAMES = { 0: 'ia32', 1: 'x64', 2: 'armv7l', 3: 'arm64', 4: 'universal' }

const ELF_MACHINES = { 0x03: 'ia32', 0x3e: 'x64', 0x28: 'armv7l', 0xb7: 'arm64' }
const PE_MACHINES = { 0x014c: 'ia32', 0x8664: 'x64', 0xaa64: 'arm64' }

/**
 * The CPU a native binary (ELF or PE) was built for, or null when the file is neither.
 * @param {string} file
 * @returns {string | null}
 */
function binaryArch(file) {
  const fd = openSync(file, 'r')
  try {
    const header = Buffer.alloc(4096)
    readSync(fd, header, 0, header.length, 0)
    if (header.readUInt32BE(0) === 0x7f454c46) {
      const littleEndian = header[5] === 1
      const machine = littleEndian ? header.readUInt16LE(18) : header.readUInt16BE(18)
      return ELF_MACHINES[/** @type {keyof typeof ELF_MACHINES} */ (machine)] ?? `elf-machine-${machine}`
    }
    if (header.readUInt16BE(0) === 0x4d5a) {
      const peOffset = header.readUInt32LE(0x3c)
      if (peOffset + 6 > header.length || header.readUInt32BE(peOffset) !== 0x50450000) return null
      const machine = header.readUInt16LE(peOffset + 4)
      return PE_MACHINES[/** @type {keyof typeof PE_MACHINES} */ (machine)] ?? `pe-machine-${machine}`
    }
    return null
  } finally {
    closeSync(fd)
  }
}

/** @param {{ appOutDir: string, arch: number, electronPlatformName: string }} context */
function checkPackagedSqlite(context) {
  const resources =
    context.electronPlatformName === 'darwin'
      ? join(context.appOutDir, '*.app', 'Contents', 'Resources')
      : join(context.appOutDir, 'resources')
  const addon = join(
    resources,
    'app.asar.unpacked',
    'node_modules',
    'sqlite3',
    'build',
    'Release',
    'node_sqlite3.node'
  )
  const wanted = ARCH_NAMES[/** @type {keyof typeof ARCH_NAMES} */ (context.arch)]
  const found = binaryArch(addon)
  if (found !== wanted) {
    throw new Error(
      `sqlite3 的本地模块是 ${found ?? '未知格式'}，而安装包目标是 ${wanted}：请在 ${wanted} 机器上执行 npm ci 后再打包（${addon}）`
    )
  }
}

module.exports = checkPackagedSqlite
module.exports.binaryArch = binaryArch
module.exports.default = checkPackagedSqlite
