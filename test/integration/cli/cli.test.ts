import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEMO_ACCOUNTS } from '../../../db/seeds/demo-population'
import { tempDir } from '../../support/helpers'

const root = join(import.meta.dirname, '../../..')
const tsx = createRequire(import.meta.url).resolve('tsx/cli')

/** `npm run cli -- …` as support staff run it, on a data folder of its own. */
function cli(dataDir: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [tsx, 'backend/cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, COUNTER_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000
  })
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    json: () => JSON.parse(run.stdout) as Record<string, unknown>
  }
}

describe('npm run cli', () => {
  it('check: answers a decision as JSON with every rule and the allowed maximum', async () => {
    const dataDir = await tempDir()
    const spouse = DEMO_ACCOUNTS.find((a) => a.cardNumber === 'B54000001')?.family.find(
      (m) => m.relation === 'spouse'
    )
    const run = cli(
      dataDir,
      'check',
      '--card',
      'B54000001',
      '--product',
      'XZ-FEMALE-SD',
      '--units',
      '1',
      '--relation',
      'spouse',
      '--insured-id',
      spouse?.idNumber ?? ''
    )
    expect(run.status).toBe(0)
    const result = run.json()
    expect(result).toMatchObject({
      ok: true,
      value: { eligible: true, rules: { regionCode: '540000', version: 2 }, allowed: { premiumFen: 12_000 } }
    })
    expect(run.stdout).not.toContain(spouse?.idNumber)
  })

  it('check --amount: takes yuan, refuses an amount Suzhou does not offer, with the rule that says so', async () => {
    const run = cli(
      await tempDir(),
      'check',
      '--card',
      'D32050001',
      '--product',
      'SZ-HEALTH-DEMO',
      '--amount',
      '700'
    )
    expect(run.status).toBe(0)
    const value = run.json().value as {
      eligible: boolean
      checks: Array<{ passed: boolean; text: string }>
      allowed: { amountsFen: number[] }
    }
    expect(value.eligible).toBe(false)
    expect(value.allowed.amountsFen).toEqual([50_000, 100_000, 150_000, 200_000])
    expect(
      value.checks
        .filter((c) => !c.passed)
        .map((c) => c.text)
        .join('')
    ).toContain('700.00')
  })

  it('offers: the products for the cardholder themselves', async () => {
    const run = cli(await tempDir(), 'offers', '--card', 'E21010002')
    expect(run.status).toBe(0)
    expect(run.json()).toMatchObject({
      ok: true,
      value: { maxSpendFen: 400_000, rules: { regionName: '沈阳市' } }
    })
  })

  it('import-bundle: refuses an altered bundle with a Chinese reason and exit code 1', async () => {
    const dir = await tempDir()
    const altered = join(dir, 'altered.bundle.json')
    await writeFile(
      altered,
      (await readFile(join(root, 'bundles/signed/210100-v1.bundle.json'), 'utf8')).replace('400000', '900000')
    )
    const run = cli(join(dir, 'data'), 'import-bundle', altered)
    expect(run.status).toBe(1)
    expect(run.json()).toMatchObject({
      ok: false,
      error: { code: 'RULES_REFUSED', message: expect.stringMatching(/签名/) }
    })
  })

  it('offers --at decides as of that moment: 衢州’s 2027 product opens on 2026-11-01', async () => {
    const dir = await tempDir()
    const open2027 = (at: string) => {
      const run = cli(dir, 'offers', '--card', 'C33080001', '--at', at)
      expect(run.status, run.stderr).toBe(0)
      return (run.json().value as { offers: Array<{ code: string; available: boolean }> }).offers.find(
        (o) => o.code === 'QZ-HQB-2027'
      )?.available
    }
    expect(open2027('2026-10-31T23:59:00+08:00')).toBe(false)
    expect(open2027('2026-11-01T00:00:00+08:00')).toBe(true)
  })

  it('--help prints the usage to stdout and exits 0, for the counter and the centre alike', () => {
    for (const entry of ['backend/cli/main.ts', 'hub/main.ts']) {
      const run = spawnSync(process.execPath, [tsx, entry, '--help'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000
      })
      expect(run.status, entry).toBe(0)
      expect(run.stdout, entry).toContain('用法：npm run')
    }
  })

  it('explains its usage in Chinese on a wrong command (exit code 2)', async () => {
    const run = cli(await tempDir(), 'frobnicate')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('没有命令「frobnicate」')
    expect(run.stderr).toContain('用法：npm run cli')
  })
})
