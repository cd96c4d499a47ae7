import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)
const root = join(import.meta.dirname, '../..')

interface BuilderConfig {
  asarUnpack?: string[]
  npmRebuild?: boolean
  electronFuses?: Record<string, boolean>
  win?: { target: Array<{ target: string; arch: string[] }> }
  linux?: { target: Array<{ target: string; arch: string[] }> }
}

/** electron-builder's own loader and schema check: packaging cannot run here, its configuration can be checked. */
async function loadBuilderConfig(): Promise<BuilderConfig> {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
    getConfig(projectDir: string, configPath: string, fromOptions: null): Promise<BuilderConfig>
    validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>
  }
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown }
  const config = await getConfig(root, join(root, 'electron-builder.yml'), null)
  await validateConfiguration(config, new DebugLogger(false))
  return config
}

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema and targets Windows x64 and Linux deb/AppImage on x64 and arm64', async () => {
    const config = await loadBuilderConfig()
    expect(config.win?.target).toEqual([{ target: 'nsis', arch: ['x64'] }])
    expect(config.linux?.target).toEqual([
      { target: 'deb', arch: ['x64', 'arm64'] },
      { target: 'AppImage', arch: ['x64', 'arm64'] },
    ])
  })

  it('unpacks sqlite3 from the asar, never rebuilds it, and turns RunAsNode off', async () => {
    const config = await loadBuilderConfig()
    expect(config.asarUnpack).toContain('node_modules/sqlite3/**')
    expect(config.npmRebuild).toBe(false)
    expect(config.electronFuses).toMatchObject({ runAsNode: false, enableNodeOptionsEnvironmentVariable: false, onlyLoadAppFromAsar: true })
  })
})
