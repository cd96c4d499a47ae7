import { describe, expect, it } from 'vitest'
import { officeReportResponseSchema } from '../../../core/sync/protocol'
import { call, openTestHub, register, reversalOf, saleFor, upload } from '../../support/hub'

const OFFICE = '柯城区医保服务大厅'

describe('hub: the office report', () => {
  it('answers every sale line its office’s terminals uploaded (same territory, trimmed), with the centre’s status, and nothing personal', async () => {
    const { url } = await openTestHub()
    const first = await register(url, 'T-OFFICE01', 'DEMO-ALL', OFFICE)
    const second = await register(url, 'T-OFFICE02', 'DEMO-ALL', `  ${OFFICE} `)
    const elsewhere = await register(url, 'T-ELSEWHERE1', 'DEMO-ALL', '衢江区医保服务大厅')

    const yunnan = saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: first.terminalId
    })
    const tooMuch = saleFor('A53000001', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: first.terminalId
    })
    const quzhou = saleFor('C33080001', [{ productCode: 'QZ-HQB-2027', premiumFen: 10_000 }], {
      terminalId: second.terminalId
    })
    const other = saleFor('A53000003', [{ productCode: 'YN-JRAK', premiumFen: 50_000 }], {
      terminalId: elsewhere.terminalId
    })
    expect(
      (await upload(url, first.token, first.terminalId, [yunnan, tooMuch])).map((r) => r.outcome)
    ).toEqual(['accepted', 'rejected'])
    expect((await upload(url, second.token, second.terminalId, [quzhou])).map((r) => r.outcome)).toEqual([
      'accepted'
    ])
    expect((await upload(url, elsewhere.token, elsewhere.terminalId, [other])).map((r) => r.outcome)).toEqual(
      ['accepted']
    )
    expect(
      (await upload(url, first.token, first.terminalId, [reversalOf(yunnan)])).map((r) => r.outcome)
    ).toEqual(['accepted'])

    const answer = await call(url, '/v1/reports/office', {
      token: second.token,
      body: { from: '2026-11-22', to: '2026-11-22' }
    })
    expect(answer.status).toBe(200)
    const report = officeReportResponseSchema.parse(answer.json())
    expect(report.territory).toBe(OFFICE)
    expect(report.terminals).toEqual(['T-OFFICE01', 'T-OFFICE02'])
    expect(report.lines.map((l) => [l.terminalId, l.saleId, l.status, l.premiumFen]).sort()).toEqual(
      [
        ['T-OFFICE01', yunnan.saleId, 'voided', 50_000],
        ['T-OFFICE01', tooMuch.saleId, 'rejected', 50_000],
        ['T-OFFICE02', quzhou.saleId, 'accepted', 10_000]
      ].sort()
    )
    expect(report.lines.find((l) => l.saleId === quzhou.saleId)).toMatchObject({
      createdAt: quzhou.createdAt,
      operatorCode: '1001',
      operatorName: '1001',
      regionCode: '330800',
      relation: 'self',
      productCode: 'QZ-HQB-2027',
      rulesVersion: quzhou.rules.version
    })
    for (const line of report.lines) {
      expect(line.regionName).toMatch(/[\u4e00-\u9fff]/)
      expect(line.productName).toMatch(/[\u4e00-\u9fff]/)
    }
    for (const sale of [yunnan, quzhou]) {
      expect(answer.text).not.toContain(sale.payer.idNumber)
      expect(answer.text).not.toContain(sale.payer.cardNumber)
      expect(answer.text).not.toContain(sale.lines[0].insuredName)
    }

    // The other office sees its own sale only; another day has nothing.
    const theirs = officeReportResponseSchema.parse(
      (
        await call(url, '/v1/reports/office', {
          token: elsewhere.token,
          body: { from: '2026-11-01', to: '2026-11-30' }
        })
      ).json()
    )
    expect(theirs).toMatchObject({ terminals: ['T-ELSEWHERE1'], lines: [{ saleId: other.saleId }] })
    const before = officeReportResponseSchema.parse(
      (
        await call(url, '/v1/reports/office', {
          token: first.token,
          body: { from: '2026-11-21', to: '2026-11-21' }
        })
      ).json()
    )
    expect(before.lines).toEqual([])
  })

  it('refuses a range that is upside down or longer than 31 days with 400 and a Chinese message, and a call without a token with 401', async () => {
    const { url } = await openTestHub()
    const { token } = await register(url, 'T-OFFICE01', 'DEMO-ALL', OFFICE)
    const upsideDown = await call(url, '/v1/reports/office', {
      token,
      body: { from: '2026-11-22', to: '2026-11-01' }
    })
    expect(upsideDown.status).toBe(400)
    expect(upsideDown.error()).toMatchObject({ code: 'BAD_REQUEST' })
    expect(upsideDown.error().message).toContain('开始日期不能晚于结束日期')
    const tooLong = await call(url, '/v1/reports/office', {
      token,
      body: { from: '2026-10-01', to: '2026-11-01' }
    })
    expect(tooLong.status).toBe(400)
    expect(tooLong.error().message).toContain('不能超过 31 天')
    expect(
      (await call(url, '/v1/reports/office', { token, body: { from: '2026-10-02', to: '2026-11-01' } }))
        .status
    ).toBe(200)
    expect(
      (await call(url, '/v1/reports/office', { body: { from: '2026-11-22', to: '2026-11-22' } })).status
    ).toBe(401)
  })
})
