import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)
const root = join(import.meta.dirname, '../../..')

type TargetList = Array<string | { target: string; arch?: string[] }>

interface BuilderConfig {
  asarUnpack?: string[]
  npmRebuild?: boolean
  afterPack?: string
  electronFuses?: Record<string, boolean>
  win?: { target: TargetList }
  linux?: { target: TargetList }
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

/**
 * What electron-builder would pack for one of our `dist:*` scripts: its own command-line parser and
 * its own rule for combining the command line's architectures with the configuration's targets.
 */
async function packedBy(script: string): Promise<Record<string, string[]>> {
  const scripts = (
    JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts
  const command = scripts[script]?.split('&&').pop()?.trim().split(/\s+/) ?? []
  expect(command[0], script).toBe('electron-builder')
  const { createYargs, configureBuildCommand, normalizeOptions } =
    require('electron-builder/out/builder') as {
      createYargs(): { parse(args: string[]): Record<string, unknown> }
      configureBuildCommand(yargs: unknown): { parse(args: string[]): Record<string, unknown> }
      normalizeOptions(args: Record<string, unknown>): {
        targets: Map<{ name: string }, Map<number, string[]>>
      }
    }
  const { computeArchToTargetNamesMap } = require('app-builder-lib/out/targets/targetFactory') as {
    computeArchToTargetNamesMap(
      raw: Map<number, string[]>,
      packager: { platformSpecificBuildOptions: unknown; defaultTarget: string[] },
      platform: unknown
    ): Map<number, string[]>
  }
  const { Arch } = require('builder-util') as { Arch: Record<number, string> }
  const config = await loadBuilderConfig()
  const argv = configureBuildCommand(createYargs()).parse(command.slice(1))
  const packed: Record<string, string[]> = {}
  for (const [platform, raw] of normalizeOptions(argv).targets) {
    const options = platform.name === 'linux' ? config.linux : config.win
    for (const [arch, targets] of computeArchToTargetNamesMap(
      raw,
      { platformSpecificBuildOptions: options, defaultTarget: [] },
      platform
    )) {
      packed[`${platform.name} ${Arch[arch]}`] = targets
    }
  }
  return packed
}

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema and targets Windows (NSIS) and Linux (deb, AppImage)', async () => {
    const config = await loadBuilderConfig()
    expect(config.win?.target).toEqual(['nsis'])
    expect(config.linux?.target).toEqual(['deb', 'AppImage'])
    expect(config.afterPack).toBe('scripts/check-native-arch.cjs')
  })

  it('packs exactly one architecture per script, so the native-module check can pass on the machine that builds it', async () => {
    expect(await packedBy('dist:win')).toEqual({ 'windows x64': ['nsis'] })
    expect(await packedBy('dist:linux:x64')).toEqual({ 'linux x64': ['deb', 'AppImage'] })
    expect(await packedBy('dist:linux:arm64')).toEqual({ 'linux arm64': ['deb', 'AppImage'] })
  })

  it('unpacks sqlite3 from the asar, never rebuilds it, and turns RunAsNode and file:// privileges off', async () => {
    const config = await loadBuilderConfig()
    expect(config.asarUnpack).toContain('node_modules/sqlite3/**')
    expect(config.npmRebuild).toBe(false)
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      onlyLoadAppFromAsar: true,
      // The page loads from app://, so file:// needs none of its old privileges.
      grantFileProtocolExtraPrivileges: false
    })
  })
})
