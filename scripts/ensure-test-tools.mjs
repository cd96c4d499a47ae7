// @ts-check
/**
 * The first step of `npm test`: the browser tests drive Debian's Chromium (never a downloaded
 * browser), read PDFs back with poppler and need a Chinese font to render the pages they check;
 * the centre's tests run its reverse-proxy example in Debian's nginx.
 * What is missing is installed from the system's packages when this machine allows it (root, or
 * passwordless sudo, and apt-get); otherwise one line says what to install, and the run stops
 * rather than skip a test.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** @typedef {{ name: string, debianPackage: string, present: () => boolean }} Tool */

const has = (/** @type {string} */ command, /** @type {string[]} */ args = ['--version']) =>
  spawnSync(command, args, { stdio: 'ignore' }).status === 0

/** @type {Tool[]} */
export const TOOLS = [
  {
    name: 'Chromium',
    debianPackage: 'chromium',
    present: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')
  },
  {
    name: '中文字体',
    debianPackage: 'fonts-wqy-microhei',
    present: () => (spawnSync('fc-list', [':lang=zh'], { encoding: 'utf8' }).stdout ?? '').trim() !== ''
  },
  { name: 'pdftotext / pdftoppm', debianPackage: 'poppler-utils', present: () => has('pdftotext', ['-v']) },
  // The centre's reverse-proxy example (docs/centre-nginx.conf) is tested with Debian's nginx.
  {
    name: 'nginx',
    debianPackage: 'nginx-light',
    present: () => existsSync(process.env.NGINX_PATH ?? '/usr/sbin/nginx')
  }
]

/** How packages can be installed here: directly as root, through passwordless sudo, or not at all. */
function installer() {
  if (!has('apt-get')) return null
  if (process.getuid?.() === 0) return []
  return has('sudo', ['-n', 'true']) ? ['sudo', '-n'] : null
}

function main() {
  const missing = TOOLS.filter((tool) => !tool.present())
  if (missing.length === 0) return 0
  const packages = missing.map((tool) => tool.debianPackage)
  const prefix = installer()
  if (prefix === null) {
    console.error(
      `测试缺少 ${missing.map((tool) => tool.name).join('、')}：请先安装 ${packages.join(' ')}（Debian/Ubuntu：sudo apt-get install ${packages.join(' ')}），再运行 npm test。`
    )
    return 1
  }
  console.log(`installing for the tests: ${packages.join(' ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const run = (/** @type {string[]} */ args) => {
    const [command, ...rest] = [...prefix, ...args]
    return spawnSync(command, rest, { stdio: 'inherit', env }).status === 0
  }
  if (
    !run(['apt-get', 'update', '-qq']) ||
    !run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages])
  ) {
    console.error(`安装 ${packages.join(' ')} 失败：请手动安装后再运行 npm test。`)
    return 1
  }
  const still = TOOLS.filter((tool) => !tool.present())
  if (still.length > 0) {
    console.error(`安装后仍缺少 ${still.map((tool) => tool.name).join('、')}。`)
    return 1
  }
  return 0
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main())
