import { spawnSync } from 'node:child_process'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ELECTRON_UNAVAILABLE, electronExecMissing, ensureElectronBinary } from '../../../scripts/start.mjs'
import { tempDir } from '../../support/helpers'

const root = join(import.meta.dirname, '../../..')
const electronDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'))
const start = join(root, 'scripts/start.mjs')

describe('npm start where Electron cannot be had', () => {
  it('fails with exactly one clear line, pointing at browser mode, when ELECTRON_EXEC_PATH names no file; nothing is fetched', async () => {
    const missing = join(await tempDir(), 'electron')
    const run = spawnSync(process.execPath, [start], {
      cwd: root,
      // A mirror nobody answers: had the launcher tried to download, the line would be the other one.
      env: { ...process.env, ELECTRON_EXEC_PATH: missing, ELECTRON_MIRROR: 'http://127.0.0.1:9/' },
      encoding: 'utf8',
      timeout: 30_000
    })
    expect(run.status).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr.trim().split('\n')).toEqual([electronExecMissing(missing)])
    expect(electronExecMissing(missing)).toContain('npm run web')
    expect(ELECTRON_UNAVAILABLE).toContain('npm run web')
  })

  it('tries Electron’s own download and reports failure when the download site cannot be reached', async () => {
    const cache = await tempDir()
    const present = ensureElectronBinary({
      electronDir,
      // A mirror on a closed loopback port: the download is refused at once, like an unreachable site.
      env: {
        ...process.env,
        ELECTRON_EXEC_PATH: '',
        ELECTRON_MIRROR: 'http://127.0.0.1:9/',
        electron_config_cache: cache,
        force_no_cache: 'true'
      },
      isPresent: () => false
    })
    expect(present).toBe(false)
  })
})

describe('npm start with an Electron binary already on the machine', () => {
  it('runs the binary ELECTRON_EXEC_PATH names, through electron-vite, on the app folder', async () => {
    // A stand-in for Electron: records how electron-vite started it. A project folder with a built
    // entry, so `--skipBuild` (passed on to electron-vite) needs no build here.
    const project = await tempDir()
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'probe', main: 'main.js' }))
    await writeFile(join(project, 'main.js'), '')
    const record = join(project, 'started.txt')
    const fakeElectron = join(project, 'electron')
    await writeFile(fakeElectron, `#!/bin/sh\necho "$PWD $*" > '${record}'\n`)
    await chmod(fakeElectron, 0o755)
    const run = spawnSync(process.execPath, [start, '--skipBuild'], {
      cwd: project,
      env: { ...process.env, ELECTRON_EXEC_PATH: fakeElectron, ELECTRON_MIRROR: 'http://127.0.0.1:9/' },
      encoding: 'utf8',
      timeout: 60_000
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect((await readFile(record, 'utf8')).trim()).toBe(`${project} .`)
  })
})
