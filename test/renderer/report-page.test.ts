import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { ReportDocument } from '../../core/report/document'
import ReportSheet from '../../renderer/src/components/report/ReportSheet.vue'
import { i18n } from '../../renderer/src/i18n'
import { cellText, cssString, MAX_PRINTED_ROWS, reportPageRules } from '../../renderer/src/print/report-page'

const document: ReportDocument = {
  title: '日结单 第 3 号',
  fields: [
    { label: '网点', value: '柯城区"医保"服务大厅\\一号窗' },
    { label: '终端', value: 'T-1' },
    { label: '操作员', value: '全部' },
    { label: '统计区间', value: '2026-11-22' },
    { label: '打印人', value: '9001 陈芳' },
    { label: '打印时间', value: '2026-11-22 10:30:00' }
  ],
  tables: [],
  fileBaseName: '日结单-T-1-第3号'
}

describe('the A4 page of a printed report', () => {
  it('puts the header fields at the top and the page numbers at the bottom of every page', () => {
    const rules = reportPageRules(document)
    expect(rules).toContain('size: A4')
    expect(rules).toContain('@top-left { content: "日结单 第 3 号"')
    expect(rules).toContain('终端：T-1　操作员：全部　统计区间：2026-11-22')
    expect(rules).toContain('打印人：9001 陈芳　打印时间：2026-11-22 10:30:00')
    expect(rules).toContain('content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"')
  })

  it('keeps a quote or backslash in an office name from breaking out of the CSS string', () => {
    expect(cssString('a"b\\c\nd')).toBe('"a\\"b\\\\c d"')
    expect(reportPageRules(document)).toContain('网点：柯城区\\"医保\\"服务大厅\\\\一号窗')
  })

  it('prints amounts in yuan from fen exactly, counts as numbers, text as it is', () => {
    expect(cellText({ fen: 123_456_789 })).toBe('1,234,567.89')
    expect(cellText({ fen: -5 })).toBe('-0.05')
    expect(cellText({ count: 7 })).toBe('7')
    expect(cellText('合计')).toBe('合计')
  })
})

describe('the report sheet', () => {
  it('lists a month’s transactions only up to the printable limit, says how many more the exports hold, and totals them all', () => {
    const rows = Array.from(
      { length: MAX_PRINTED_ROWS + 5 },
      (_, i) => [`交易-${i + 1}-`, { fen: 100 }] as const
    )
    const wrapper = mount(ReportSheet, {
      props: {
        document: {
          ...document,
          tables: [
            {
              title: '交易清单',
              columns: [
                { label: '交易号', kind: 'text' },
                { label: '金额', kind: 'money' }
              ],
              rows,
              totals: ['合计', { fen: 100 * rows.length }]
            }
          ]
        }
      },
      global: { plugins: [i18n] }
    })
    expect(wrapper.findAll('tbody tr')).toHaveLength(MAX_PRINTED_ROWS + 1)
    expect(wrapper.get('[data-test="rows-left-out"]').text()).toContain('另有 5 行未列出')
    expect(wrapper.get('tfoot').text()).toContain('1,005.00')
    expect(wrapper.text()).not.toContain(`交易-${MAX_PRINTED_ROWS + 1}-`)
  })
})
