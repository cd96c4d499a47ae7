import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { ReceiptView } from '../../core/sale'
import ReceiptSheet from '../../renderer/src/components/sale/ReceiptSheet.vue'
import { i18n } from '../../renderer/src/i18n'
import { until } from '../support/wait'

const receipt: ReceiptView = {
  saleId: '01a203ce-3ac0-7d35-b721-951ad4e8e442',
  createdAt: '2026-11-22T15:09:00.000Z',
  status: 'queued',
  terminalId: 'T-A9A0796C',
  operator: { code: '1001', name: '张敏' },
  payer: {
    nameMasked: '徐**',
    cardNumberMasked: 'C****0001',
    idNumberMasked: '3308**********0119',
    region: { code: '330800', name: '衢州市' }
  },
  rules: { regionName: '衢州市', version: 1 },
  lines: [
    {
      lineNo: 1,
      relation: 'self',
      insuredNameMasked: '徐**',
      insuredIdMasked: '3308**********0119',
      productCode: 'QZ-HQB-2027',
      productName: '惠衢保（2027年度，示例）',
      units: 1,
      premiumFen: 10_000,
      coverFrom: '2026-12-31T16:00:00.000Z',
      coverTo: '2027-12-31T16:00:00.000Z',
      policy: null,
      instalment: null,
      cancelledAt: null,
      cancellation: { allowed: false, endsAt: null, reason: '中心尚未受理此交易：可作废，无需退保' }
    },
    {
      lineNo: 2,
      relation: 'spouse',
      insuredNameMasked: '周*',
      insuredIdMasked: '3308**********0261',
      productCode: 'QZ-HQB-2027',
      productName: '惠衢保（2027年度，示例）',
      units: 1,
      premiumFen: 10_000,
      coverFrom: '2026-12-31T16:00:00.000Z',
      coverTo: '2027-12-31T16:00:00.000Z',
      policy: null,
      instalment: null,
      cancelledAt: null,
      cancellation: { allowed: false, endsAt: null, reason: '中心尚未受理此交易：可作废，无需退保' }
    }
  ],
  totalFen: 20_000,
  payerProof: 'swiped',
  keyedApprovedBy: null,
  applicantMobileMasked: null,
  cancellations: [],
  voided: null,
  reversalQueuedAt: null,
  centreResult: null,
  reversalResult: null
}

describe('receipt sheet', () => {
  it('shows the transaction, masked people, each line with its cover year, the total, and a QR code of the id', async () => {
    const wrapper = mount(ReceiptSheet, { props: { receipt }, global: { plugins: [i18n] } })
    await until(async () => {
      await flushPromises()
      expect(wrapper.get('img').attributes('src')).toMatch(/^data:image\/png;base64,/)
    })
    const text = wrapper.text()
    expect(text).toContain('01a203ce-3ac0-7d35-b721-951ad4e8e442')
    expect(text).toContain('待上传')
    expect(text).toContain('徐** · C****0001')
    expect(text).toContain('配偶 · 3308**********0261')
    expect(text).toContain('保障期 2027-01-01 至 2027-12-31')
    expect(wrapper.get('[data-test="receipt-total"]').text()).toBe('¥200.00')
    expect(text).toContain('衢州市 第 1 版')
    expect(text).toContain('1001 张敏')
    expect(wrapper.find('[data-test="receipt-voided"]').exists()).toBe(false)
  })

  it('says when the centre accepted the sale', () => {
    const accepted: ReceiptView = {
      ...receipt,
      status: 'accepted',
      centreResult: { settledAt: '2026-11-22T15:20:00.000Z', rejection: null }
    }
    const wrapper = mount(ReceiptSheet, { props: { receipt: accepted }, global: { plugins: [i18n] } })
    expect(wrapper.get('[data-test="receipt-status"]').text()).toBe('中心已受理 2026-11-22 23:20')
    expect(wrapper.text()).toContain('本凭条为购买凭证')
  })

  it('gives the centre’s reason for a rejected sale, and that nothing was taken', () => {
    const rejected: ReceiptView = {
      ...receipt,
      status: 'rejected',
      centreResult: {
        settledAt: '2026-11-22T15:20:00.000Z',
        rejection: { code: 'BALANCE', message: '个人账户余额不足' }
      }
    }
    const wrapper = mount(ReceiptSheet, { props: { receipt: rejected }, global: { plugins: [i18n] } })
    expect(wrapper.get('[data-test="receipt-status"]').text()).toBe('中心拒绝：个人账户余额不足')
    expect(wrapper.text()).toContain('未从个人账户扣款')
    expect(wrapper.text()).not.toContain('待上传')
  })

  it('follows a reversal from request to the centre’s answer', () => {
    const settled = {
      ...receipt,
      status: 'accepted' as const,
      centreResult: { settledAt: '2026-11-22T15:20:00.000Z', rejection: null }
    }
    const requested = mount(ReceiptSheet, {
      props: { receipt: { ...settled, reversalQueuedAt: '2026-11-22T16:00:00.000Z' } },
      global: { plugins: [i18n] }
    })
    expect(requested.get('[data-test="receipt-reversal"]').text()).toBe('已申请冲正，待中心受理')
    const refused = mount(ReceiptSheet, {
      props: {
        receipt: {
          ...settled,
          reversalQueuedAt: '2026-11-22T16:00:00.000Z',
          reversalResult: {
            settledAt: '2026-11-22T16:05:00.000Z',
            rejection: { code: 'SETTLED', message: '已结算，不能冲正' }
          }
        }
      },
      global: { plugins: [i18n] }
    })
    expect(refused.get('[data-test="receipt-reversal"]').text()).toBe('冲正被拒：已结算，不能冲正')
  })

  it('marks a voided sale across the receipt', () => {
    const wrapper = mount(ReceiptSheet, {
      props: {
        receipt: { ...receipt, status: 'voided', voided: { at: receipt.createdAt, reason: '客户放弃' } }
      },
      global: { plugins: [i18n] }
    })
    expect(wrapper.get('[data-test="receipt-voided"]').text()).toBe('已作废')
  })
})
