import type { EnrolmentStatus, InsuranceType, Relation } from '../../core/cardholder'
import type { Role } from '../../core/operators'
import { residentIdCheckChar } from '../../core/identifiers'

/**
 * The demo cardholders: made-up people, one set per region of the source documents, each chosen
 * to show something (a balance exactly at a threshold, one fen below it, a suspended account …).
 * The README lists them. Card numbers are demo numbers; ID numbers are valid in form only.
 */

export const DEMO_REGIONS = [
  { code: '539900', name: '云南省省本级' },
  { code: '540000', name: '西藏自治区' },
  { code: '330800', name: '衢州市' },
  { code: '320500', name: '苏州市区' },
  { code: '210100', name: '沈阳市' },
  { code: '310000', name: '上海市' }
] as const

export interface DemoFamilyMember {
  readonly idNumber: string
  readonly name: string
  readonly relation: Relation
}

export interface DemoAccount {
  readonly cardNumber: string
  readonly idNumber: string
  readonly name: string
  readonly regionCode: (typeof DEMO_REGIONS)[number]['code']
  readonly insuranceType: InsuranceType
  readonly status: EnrolmentStatus
  readonly balanceFen: number
  readonly historicalBalanceFen: number
  /** Fitness-card (阳光健身卡) transfers this settlement year, Suzhou only. */
  readonly fitnessCardTransfersFen?: number
  /** What this account demonstrates, for the README and for whoever reads the seed. */
  readonly shows: string
  readonly family: readonly DemoFamilyMember[]
}

/**
 * The demo account's permanent account number (the centre's 个人编号): region code, then the card
 * number without its letter. The reference centre derives the same number, so the two agree.
 */
export function demoAccountNo(account: Pick<DemoAccount, 'regionCode' | 'cardNumber'>): string {
  return account.regionCode + account.cardNumber.slice(1)
}

/** An 18-digit ID with a correct check character: 6-digit area, birth date, 3-digit sequence (odd = male). */
export function demoIdNumber(area: string, birth: string, sequence: string): string {
  const first17 = `${area}${birth}${sequence}`
  return first17 + residentIdCheckChar(first17)
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  {
    cardNumber: 'A53000001',
    idNumber: demoIdNumber('530102', '19680415', '013'),
    name: '张建国',
    regionCode: '539900',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 180_000,
    historicalBalanceFen: 150_000,
    shows: '云南：累计结余 1,800.00，超过 1,000 的部分可用',
    family: [{ idNumber: demoIdNumber('530102', '20150620', '024'), name: '张小雨', relation: 'child' }]
  },
  {
    cardNumber: 'A53000002',
    idNumber: demoIdNumber('530103', '19900228', '046'),
    name: '李秀英',
    regionCode: '539900',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 100_000,
    historicalBalanceFen: 80_000,
    shows: '云南：累计结余恰为 1,000.00（“超过”不含本数）',
    family: []
  },
  {
    cardNumber: 'A53000003',
    idNumber: demoIdNumber('530111', '19560903', '031'),
    name: '王磊',
    regionCode: '539900',
    insuranceType: 'employee_retired',
    status: 'active',
    balanceFen: 1_265_050,
    historicalBalanceFen: 1_100_000,
    shows: '云南：退休职工，余额充足',
    family: []
  },
  {
    cardNumber: 'A53000004',
    idNumber: demoIdNumber('530102', '19750310', '028'),
    name: '赵丽华',
    regionCode: '539900',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 580_000,
    historicalBalanceFen: 400_000,
    shows: '云南：去年已买吉瑞安康 2 份（演示中心），第 2 期续期本月待缴',
    family: []
  },
  {
    cardNumber: 'B54000001',
    idNumber: demoIdNumber('540102', '19790512', '015'),
    name: '次仁多吉',
    regionCode: '540000',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 320_000,
    historicalBalanceFen: 200_000,
    shows: '西藏：余额 3,200.00（3,000 以上），绑定家庭成员 2 人',
    family: [
      { idNumber: demoIdNumber('540102', '19810220', '028'), name: '卓玛', relation: 'spouse' },
      { idNumber: demoIdNumber('540102', '20090807', '017'), name: '扎西', relation: 'child' }
    ]
  },
  {
    cardNumber: 'B54000002',
    idNumber: demoIdNumber('540103', '19850130', '022'),
    name: '拉姆',
    regionCode: '540000',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 299_999,
    historicalBalanceFen: 250_000,
    shows: '西藏：余额 2,999.99，比门槛少 1 分',
    family: []
  },
  {
    cardNumber: 'B54000003',
    idNumber: demoIdNumber('540102', '19721118', '035'),
    name: '格桑',
    regionCode: '540000',
    insuranceType: 'employee_active',
    status: 'suspended',
    balanceFen: 500_000,
    historicalBalanceFen: 450_000,
    shows: '西藏：暂停参保',
    family: []
  },
  {
    cardNumber: 'C33080001',
    idNumber: demoIdNumber('330802', '19760309', '011'),
    name: '徐卫东',
    regionCode: '330800',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 98_000,
    historicalBalanceFen: 35_000,
    shows: '衢州：历年余额 350.00，可为家人各买一份 100 元',
    family: [
      { idNumber: demoIdNumber('330802', '19780714', '026'), name: '周慧', relation: 'spouse' },
      { idNumber: demoIdNumber('330802', '20050121', '019'), name: '徐浩', relation: 'child' },
      { idNumber: demoIdNumber('330802', '19500611', '013'), name: '徐长林', relation: 'parent' }
    ]
  },
  {
    cardNumber: 'C33080002',
    idNumber: demoIdNumber('330803', '19880816', '048'),
    name: '郑丽',
    regionCode: '330800',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 60_000,
    historicalBalanceFen: 9_999,
    shows: '衢州：历年余额 99.99，比一份保费少 1 分',
    family: []
  },
  {
    cardNumber: 'D32050001',
    idNumber: demoIdNumber('320505', '19820101', '062'),
    name: '陈静',
    regionCode: '320500',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 720_000,
    historicalBalanceFen: 600_000,
    shows: '苏州：往年结余恰为 6,000.00（两档的交界）',
    family: []
  },
  {
    cardNumber: 'D32050002',
    idNumber: demoIdNumber('320506', '19700725', '051'),
    name: '周强',
    regionCode: '320500',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 510_000,
    historicalBalanceFen: 450_000,
    fitnessCardTransfersFen: 50_000,
    shows: '苏州：往年结余 4,500.00（3,000–6,000 档），今年已划账阳光健身卡 500.00',
    family: []
  },
  {
    cardNumber: 'D32050003',
    idNumber: demoIdNumber('320505', '19930412', '084'),
    name: '吴敏',
    regionCode: '320500',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 420_000,
    historicalBalanceFen: 299_999,
    shows: '苏州：往年结余 2,999.99，不足 3,000',
    family: []
  },
  {
    cardNumber: 'E21010001',
    idNumber: demoIdNumber('210102', '19650930', '017'),
    name: '刘洋',
    regionCode: '210100',
    insuranceType: 'employee_retired',
    status: 'active',
    balanceFen: 200_000,
    historicalBalanceFen: 180_000,
    shows: '沈阳：余额恰为 2,000.00，2,000 以上部分为 0',
    family: []
  },
  {
    cardNumber: 'E21010002',
    idNumber: demoIdNumber('210103', '19870612', '046'),
    name: '赵婷',
    regionCode: '210100',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 650_000,
    historicalBalanceFen: 500_000,
    shows: '沈阳：余额 6,500.00，超出部分 4,500 受年度 4,000 限额',
    family: []
  },
  {
    cardNumber: 'F31000001',
    idNumber: demoIdNumber('310101', '19840321', '039'),
    name: '孙志明',
    regionCode: '310000',
    insuranceType: 'employee_active',
    status: 'active',
    balanceFen: 1_020_000,
    historicalBalanceFen: 880_000,
    shows: '上海：历年结余 8,800.00，专属产品仅限本人',
    family: []
  },
  {
    cardNumber: 'F31000002',
    idNumber: demoIdNumber('310104', '19990805', '062'),
    name: '钱芳',
    regionCode: '310000',
    insuranceType: 'resident',
    status: 'active',
    balanceFen: 0,
    historicalBalanceFen: 0,
    shows: '上海：城乡居民医保，没有个人账户',
    family: []
  }
]

/** Demo operators (PINs are demo PINs, listed in the README): one of each role. */
export const DEMO_OPERATORS: ReadonlyArray<{ code: string; name: string; role: Role; pin: string }> = [
  { code: '1001', name: '张敏', role: 'clerk', pin: '111111' },
  { code: '2001', name: '李强', role: 'agent', pin: '222222' },
  { code: '9001', name: '陈芳', role: 'supervisor', pin: '999999' }
]
