import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ELECTRON_UNAVAILABLE, ensureElectronBinary } from '../../scripts/start.mjs'
import { tempDir } from '../helpers'

const root = join(import.meta.dirname, '../..')
const electronDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'))

describe('npm start where Electron cannot be had', () => {
  it('fails with exactly one clear line, pointing at browser mode', async () => {
    // An override folder without the binary: the launcher must not try to run or fetch anything.
    const empty = await tempDir()
    const run = spawnSync(process.execPath, ['scripts/start.mjs'], {
      cwd: root,
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: empty },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(run.status).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr.trim().split('\n')).toEqual([ELECTRON_UNAVAILABLE])
    expect(ELECTRON_UNAVAILABLE).toContain('npm run web')
  })

  it('tries Electron’s own download and reports failure when the download site cannot be reached', async () => {
    const cache = await tempDir()
    const present = ensureElectronBinary({
      electronDir,
      // A mirror on a closed loopback port: the download is refused at once, like an unreachable site.
      env: { ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache, force_no_cache: 'true' },
      isPresent: () => false,
    })
    expect(present).toBe(false)
  })
})
