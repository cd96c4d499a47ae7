import type { EnrolmentStatus, InsuranceType } from '../cardholder'
import type { Gender } from '../identifiers'
import type { Comparison, InsuredRelation } from './bundle'

/** The Chinese words the decisions, receipts and reports use for the rules' codes. */

export const RELATION_LABELS: Readonly<Record<InsuredRelation, string>> = {
  self: '本人',
  spouse: '配偶',
  child: '子女',
  parent: '父母',
  grandparent: '祖父母/外祖父母',
  grandchild: '孙子女/外孙子女',
  sibling: '兄弟姐妹'
}

export const INSURANCE_TYPE_LABELS: Readonly<Record<InsuranceType, string>> = {
  employee_active: '职工医保（在职）',
  employee_retired: '职工医保（退休）',
  resident: '城乡居民医保'
}

export const STATUS_LABELS: Readonly<Record<EnrolmentStatus, string>> = {
  active: '正常参保',
  suspended: '暂停参保',
  terminated: '终止参保'
}

export const GENDER_LABELS: Readonly<Record<Gender, string>> = { male: '男', female: '女' }

export const COMPARISON_SYMBOLS: Readonly<Record<Comparison, string>> = {
  '>=': '≥',
  '>': '>',
  '<=': '≤',
  '<': '<'
}
