import { spawnSync } from 'node:child_process'
import { symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../support/helpers'

const script = join(import.meta.dirname, '../../../scripts/ensure-test-tools.mjs')

describe('npm test’s first step: the tools the tests drive', () => {
  it('passes at once where Chromium, a Chinese font, poppler and nginx are installed', () => {
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 })
    expect(run.status).toBe(0)
    expect(run.stdout).toBe('')
  })

  it('says in one line what to install, and stops, where it cannot install anything itself', async () => {
    // A machine with Node alone on its PATH: no apt-get, no fc-list, no poppler; no Chromium or nginx either.
    const bin = await tempDir()
    await symlink(process.execPath, join(bin, 'node'))
    const run = spawnSync(join(bin, 'node'), [script], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: bin, CHROMIUM_PATH: join(bin, 'no-chromium'), NGINX_PATH: join(bin, 'no-nginx') }
    })
    expect(run.status).toBe(1)
    expect(run.stderr.trim().split('\n')).toEqual([
      '测试缺少 Chromium、中文字体、pdftotext / pdftoppm、nginx：请先安装 chromium fonts-wqy-microhei poppler-utils nginx-light（Debian/Ubuntu：sudo apt-get install chromium fonts-wqy-microhei poppler-utils nginx-light），再运行 npm test。'
    ])
  })
})
