import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { DEMO_KEY_ID } from '../../../backend/services/rules/keys'
import { main as signBundle } from '../../../scripts/sign-bundle'
import { tempDir } from '../../support/helpers'
import { hubCli } from '../../support/hub-cli'
import { accountAtCentre, call, openTestHub, queueFile, register, saleFor } from '../../support/hub'
import { centreDatabase } from '../../support/postgres'
import { BUNDLES_DIR, sourceFileOf } from '../../support/rule-fixtures'

/** The centre's staff at its command line, on the same database the running centre uses. */
async function centreWithCli() {
  const dataDir = await tempDir('hub-ops-')
  const database = await centreDatabase()
  const centre = await openTestHub({ dir: dataDir, databaseUrl: database.url })
  const hub = (...args: string[]) => hubCli(dataDir, database.env, ...args)
  return { centre, hub, dataDir }
}

describe('hub: the centre’s operations from the command line', () => {
  it('lists terminals and stops one: its token, its renewal and a new registration under its number all fail', async () => {
    const { centre, hub, dataDir } = await centreWithCli()
    const kept = await register(centre.url, 'T-OPS00001', 'DEMO-ALL', '柯城区医保服务大厅 1 号窗口')
    const lost = await register(centre.url, 'T-OPS00002', 'DEMO-ALL', '上门服务 笔记本 7 号')
    const listed = await hub('terminals')
    expect(listed.status).toBe(0)
    expect(listed.stdout).toContain('T-OPS00002\t上门服务 笔记本 7 号')
    expect(listed.stdout).toContain('共 2 台，在用 2 台')

    const revoked = await hub('revoke-terminal', 'T-OPS00002', '--reason', '笔记本遗失')
    expect(revoked.stdout).toBe('已停用终端 T-OPS00002：令牌已失效\n')
    expect((await hub('revoke-terminal', 'T-OPS00002')).status).toBe(1)
    expect((await call(centre.url, '/v1/rules?region=330800', { token: lost.token })).status).toBe(401)
    const renewal = await call(centre.url, '/v1/terminals/T-OPS00002/token', {
      body: { refreshSecret: lost.refreshSecret }
    })
    expect(renewal.status).toBe(401)
    await expect(register(centre.url, 'T-OPS00002')).rejects.toThrow('该终端编号已被医保中心停用')
    // The other terminal goes on.
    expect((await call(centre.url, '/v1/rules?region=330800', { token: kept.token })).status).toBe(200)
    expect((await hub('terminals')).stdout).toMatch(/T-OPS00002\t.*已停用（.*：笔记本遗失）/)

    // A queue file the lost laptop wrote is refused as coming from a stopped terminal, and settles nothing.
    const before = await accountAtCentre(centre.url, kept.token, 'C33080001')
    const file = join(dataDir, 'lost.queue.json')
    const sale = saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }], {
      terminalId: 'T-OPS00002'
    })
    await writeFile(file, queueFile(lost, [sale]))
    const imported = await hub('import-queue', file)
    expect(imported.status).not.toBe(0)
    expect(imported.stderr).toMatch(
      /终端 T-OPS00002 已于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 被医保中心停用（笔记本遗失）；未导入任何交易/
    )
    expect(await accountAtCentre(centre.url, kept.token, 'C33080001')).toEqual(before)
    expect(
      (await hub('export-package', '--terminal', 'T-OPS00002', join(dataDir, 'p.json'))).stderr
    ).toContain('被医保中心停用（笔记本遗失），不为它制作数据包')
  }, 60_000)

  it('publishes a signed bundle that terminals are then given, and refuses a tampered one', async () => {
    const { centre, hub } = await centreWithCli()
    const terminal = await register(centre.url, 'T-OPS00003')
    const dir = await tempDir('rules-')
    const source = join(dir, 'tibet-v3.json')
    await writeFile(
      source,
      (await readFile(sourceFileOf('540000'), 'utf8')).replace('"version": 2', '"version": 3')
    )
    const signed = join(dir, 'tibet-v3.bundle.json')
    vi.spyOn(console, 'log').mockImplementation(() => {})
    expect(
      await signBundle([
        source,
        '--key',
        join(BUNDLES_DIR, 'keys', `${DEMO_KEY_ID}.private.pem`),
        '--out',
        signed
      ])
    ).toBe(0)
    vi.restoreAllMocks()

    const tampered = join(dir, 'tampered.bundle.json')
    const genuine = await readFile(signed, 'utf8')
    const altered = genuine.replace('\\"version\\": 3', '\\"version\\": 4')
    expect(altered).not.toBe(genuine)
    await writeFile(tampered, altered)
    const refused = await hub('publish-rules', tampered)
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('规则包无法加入中心')
    expect(
      (await call(centre.url, '/v1/rules?region=540000', { token: terminal.token })).headers.get('etag')
    ).toBe('"540000-v2"')

    const published = await hub('publish-rules', signed)
    expect(published.stdout).toBe('已发布地区 540000 第 3 版规则包\n')
    expect(
      (await call(centre.url, '/v1/rules?region=540000', { token: terminal.token })).headers.get('etag')
    ).toBe('"540000-v3"')
    expect((await hub('publish-rules', signed)).status).toBe(0)
    expect((await hub('withdraw-rules', '540000', '3')).stdout).toContain('已撤回地区 540000 第 3 版规则包')
    expect(
      (await call(centre.url, '/v1/rules?region=540000', { token: terminal.token })).headers.get('etag')
    ).toBe('"540000-v2"')
  }, 60_000)
})
