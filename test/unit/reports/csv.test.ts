import { describe, expect, it } from 'vitest'
import { neutralised, quoted, reportCsv, UTF8_BOM } from '../../../core/report/csv'
import type { ReportDocument } from '../../../core/report/document'

const DOCUMENT: ReportDocument = {
  title: '日结汇总表',
  fields: [
    { label: '网点', value: '衢州市, "柯城" 大厅' },
    { label: '操作员', value: '=HYPERLINK("http://x","点我")' }
  ],
  tables: [
    {
      title: '按操作员',
      columns: [
        { label: '操作员', kind: 'text' },
        { label: '笔数', kind: 'count' },
        { label: '金额', kind: 'money' }
      ],
      rows: [
        ['1001 张敏', { count: 2 }, { fen: 123_456_789 }],
        ['+1 换行\r\n第二行', { count: 1 }, { fen: 5 }],
        ['@SUM(A1)', { count: 0 }, { fen: -1_050 }]
      ],
      totals: ['合计', '—', { fen: 123_455_744 }],
      note: '-不含作废'
    },
    { title: '交易清单', columns: [{ label: '时间', kind: 'text' }], rows: [['\tcmd']] }
  ],
  fileBaseName: 'x'
}

describe('report CSV (pure)', () => {
  const csv = reportCsv(DOCUMENT)

  it('starts with the BOM (EF BB BF once written as UTF-8) and ends every line with CRLF', () => {
    expect(csv.startsWith(UTF8_BOM)).toBe(true)
    expect([...Buffer.from(csv, 'utf8').subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    expect(csv.endsWith('\r\n')).toBe(true)
    // Every LF is part of a CRLF.
    expect(csv.replaceAll('\r\n', '')).not.toContain('\n')
  })

  it('writes the header fields as label,value lines, then each table after a blank line, money in yuan from fen', () => {
    expect(csv.slice(1).split('\r\n')).toEqual(
      [
        '日结汇总表',
        '网点,"衢州市, ""柯城"" 大厅"',
        `操作员,"'=HYPERLINK(""http://x"",""点我"")"`,
        '',
        '按操作员',
        '操作员,笔数,金额',
        '1001 张敏,2,1234567.89',
        `"'+1 换行\r\n第二行",1,0.05`,
        "'@SUM(A1),0,-10.50",
        '合计,—,1234557.44',
        "'-不含作废",
        '',
        '交易清单',
        '时间',
        "'\tcmd",
        ''
      ]
        .join('\r\n')
        .split('\r\n')
    )
  })

  it('neutralises formula-looking text, and only text: a negative amount stays a number', () => {
    for (const text of ['=1+1', '+1', '-1', '@A1', '\t=1', '\r=1']) expect(neutralised(text)).toBe(`'${text}`)
    for (const text of ['1001 张敏', '合计', '—', '2026-11-22', "'=1"]) expect(neutralised(text)).toBe(text)
    expect(csv).toContain(',-10.50')
  })

  it('quotes per RFC 4180', () => {
    expect(quoted('a')).toBe('a')
    expect(quoted('a,b')).toBe('"a,b"')
    expect(quoted('say "hi"')).toBe('"say ""hi"""')
    expect(quoted('a\nb')).toBe('"a\nb"')
  })
})
