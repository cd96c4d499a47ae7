import type zhCN from './zh-CN'

const en: typeof zhCN = {
  app: {
    title: 'Personal-account health insurance counter',
    demoData: 'Demo data',
    language: 'Language',
    version: 'Version {version}',
    schema: 'Database {schema}',
    dataDir: 'Data folder',
  },
  counter: {
    readCard: 'Read card',
    inputLabel: 'Social-security card or ID number',
    inputPlaceholder: 'Swipe the card, or type the card / ID number and press Enter',
    lookup: 'Look up',
    clear: 'Clear',
    hint: '9-character social-security card number, or 18-digit resident ID (may end in X).',
    lookupFailed: 'Could not read the cardholder',
    waitingForCard: 'Swipe a social-security card',
  },
  cardholder: {
    title: 'Cardholder',
    previousRead: 'Showing the previous cardholder',
    name: 'Name',
    genderAge: 'Gender / age',
    idNumber: 'ID number',
    cardNumber: 'Card number',
    region: 'Region',
    insuranceType: 'Insurance',
    status: 'Status',
    boundFamily: 'Bound family members',
    boundFamilyCount: '{count}',
    balance: 'Personal-account balance',
    historicalBalance: 'of which carried over',
    balanceAsOf: 'Balance as of {time} (Beijing time)',
    age: '{age} years',
    gender: { male: 'Male', female: 'Female' },
    identifiedBy: { 'social-security-card': 'Read by card number', 'resident-id': 'Read by ID number' },
  },
  insuranceType: {
    employee_active: 'Employee basic medical insurance (working)',
    employee_retired: 'Employee basic medical insurance (retired)',
    resident: 'Resident basic medical insurance',
  },
  status: { active: 'Enrolled', suspended: 'Suspended', terminated: 'Terminated' },
  errors: {
    CARD_MALFORMED: 'The number read is not a valid card or ID number. Swipe again or retype it.',
    CARD_NOT_FOUND: 'No cardholder with this number in the local data. Check the number or sync, then try again.',
    E_VOUCHER_OFFLINE: 'An e-voucher can only be checked online by the centre. Swipe the card or type the ID number.',
    INVALID_ARGUMENT: 'The request was not valid.',
    UNKNOWN_CALL: 'This function is not available in this version.',
    FORBIDDEN: 'This page may not use counter functions.',
    TRANSPORT: 'Cannot reach the local counter service. Is the app still running?',
    INTERNAL: 'Internal error: nothing was done. Try again or call support.',
  },
}

export default en
