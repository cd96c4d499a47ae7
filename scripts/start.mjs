// @ts-check
/**
 * `npm start` (build, then run the app) and `npm run dev` (live reload). Electron's binary is
 * fetched on first use, from outside the npm registry; where that cannot happen, say so in one
 * line instead of a stack trace, and point at browser mode.
 *
 * An Electron binary already on the machine is named by `ELECTRON_EXEC_PATH`, the variable
 * electron-vite itself reads (it ignores the `electron` package's ELECTRON_OVERRIDE_DIST_PATH).
 * Arguments after `--` go to electron-vite (`npm start -- --skipBuild` reopens without building).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

export const ELECTRON_UNAVAILABLE =
  '无法启动桌面版：Electron 程序文件未能下载（本机访问不到 Electron 的发布地址，可设置 ELECTRON_MIRROR 指向镜像后重试，或用 ELECTRON_EXEC_PATH 指定本机已有的 Electron 程序）；不用 Electron 也可以运行 npm run web，在浏览器中使用柜台。'

/** @param {string} path */
export const electronExecMissing = (path) =>
  `无法启动桌面版：ELECTRON_EXEC_PATH 指定的 Electron 程序不存在（${path}）；请改正该路径，或去掉它以自动下载；不用 Electron 也可以运行 npm run web。`

/**
 * Whether Electron's binary is on disk where electron-vite will look for it: ELECTRON_EXEC_PATH,
 * else the binary the `electron` package downloaded (its path.txt under dist/).
 * @param {string} electronDir the installed `electron` package
 * @param {NodeJS.ProcessEnv} env
 */
export function electronBinaryPresent(electronDir, env = process.env) {
  if (env.ELECTRON_EXEC_PATH) return existsSync(env.ELECTRON_EXEC_PATH)
  const pathFile = join(electronDir, 'path.txt')
  return existsSync(pathFile) && existsSync(join(electronDir, 'dist', readFileSync(pathFile, 'utf8')))
}

/**
 * Runs the `electron` package's own installer (the download it would otherwise start on first use),
 * quietly, and reports whether the binary is there afterwards.
 * @param {{ electronDir: string, env?: NodeJS.ProcessEnv, isPresent?: (dir: string, env: NodeJS.ProcessEnv) => boolean }} options
 */
export function ensureElectronBinary({ electronDir, env = process.env, isPresent = electronBinaryPresent }) {
  if (isPresent(electronDir, env)) return true
  // A binary named by hand is not replaced by a download.
  if (env.ELECTRON_EXEC_PATH) return false
  const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
    env,
    stdio: 'pipe',
    timeout: 10 * 60 * 1000
  })
  return install.status === 0 && isPresent(electronDir, env)
}

function main() {
  const electronDir = dirname(require.resolve('electron/package.json'))
  if (!ensureElectronBinary({ electronDir })) {
    console.error(
      process.env.ELECTRON_EXEC_PATH
        ? electronExecMissing(process.env.ELECTRON_EXEC_PATH)
        : ELECTRON_UNAVAILABLE
    )
    process.exit(1)
  }
  const electronVite = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js')
  const args = process.argv.slice(2)
  const command = args.includes('--dev') ? 'dev' : 'preview'
  const child = spawn(process.execPath, [electronVite, command, ...args.filter((arg) => arg !== '--dev')], {
    stdio: 'inherit'
  })
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM']))
    process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main()
