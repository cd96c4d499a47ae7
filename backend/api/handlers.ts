import type { AppInfo, Caller, Handlers } from '../../core/api/contract'
import { AppError } from '../../core/errors'
import type { AuthService } from '../services/auth'
import type { CardholderService } from '../services/cardholder'
import type { EligibilityService } from '../services/eligibility'
import type { SalesService } from '../services/sales'
import type { PrinterSettingsService, ReaderSettingsService } from '../services/terminal-settings'
import type { Sync } from '../services/sync'
import type { ReportsService } from '../services/reports'
import type { ReportExportService } from '../services/report-export'
import type { SupervisionService } from '../services/supervision'
import type { RecordsService } from '../services/records'
import type { FileExchange } from '../services/file-exchange'

export interface Services {
  readonly auth: AuthService
  readonly cardholders: CardholderService
  readonly readerSettings: ReaderSettingsService
  readonly printerSettings: PrinterSettingsService
  readonly eligibility: EligibilityService
  readonly sales: SalesService
  readonly sync: Sync
  readonly reports: ReportsService
  readonly reportExport: ReportExportService
  readonly supervision: SupervisionService
  readonly records: RecordsService
  readonly files: FileExchange
  appInfo(): Promise<AppInfo>
}

/** The dispatcher has already refused operator calls without a session; this only narrows the type. */
function signedIn(caller: Caller | null): Caller {
  if (!caller) throw new AppError('UNAUTHENTICATED', '请先登录')
  return caller
}

/** Binds each call of the contract to the service that answers it: nothing else lives here. */
export function createHandlers(services: Services): Handlers {
  const { auth } = services
  return {
    'app.info': () => services.appInfo(),
    'auth.signIn': ({ operatorCode, pin }) => auth.signIn(operatorCode, pin),
    'auth.session': (_, { caller }) => auth.view(signedIn(caller)),
    'auth.changePin': ({ currentPin, newPin }, { caller }) =>
      auth.changePin(signedIn(caller), currentPin, newPin),
    'auth.setUp': ({ operatorCode, name, pin }) => auth.setUp({ code: operatorCode, name, pin }),
    'auth.signOut': async (_, { caller }) => {
      await auth.signOut(signedIn(caller).token)
      return { signedOut: true }
    },
    'auth.openShift': (_, { caller }) => auth.openShift(signedIn(caller)),
    'cardholder.lookup': ({ input }) => services.cardholders.lookup(input),
    'eligibility.offers': ({ accountId, at }) => services.eligibility.offers(accountId, at),
    'eligibility.check': (request) => services.eligibility.check(request),
    'sale.catalogue': ({ accountId }) => services.sales.catalogue(accountId),
    'sale.quote': (order) => services.sales.quote(order),
    'sale.begin': ({ accountId }, { caller }) => services.sales.begin(signedIn(caller), accountId),
    'sale.commit': ({ saleId, order, payment, signature, warningsAcknowledged }, { caller }) =>
      services.sales.commit(signedIn(caller), { saleId, order, payment, signature, warningsAcknowledged }),
    'sale.receipt': async ({ saleId, reprint }, { caller }) => {
      const shown = await services.sales.receipt(saleId)
      // A reprint is audited and marked 补打 on the paper: a second copy never passes for the first.
      if (!reprint) return shown
      await auth.record(signedIn(caller), 'receipt_reprinted', saleId)
      return { ...shown, reprint: true }
    },
    'sale.search': (filter, { caller }) => services.sales.search(signedIn(caller), filter),
    'sale.void': (request, { caller }) => services.sales.void(signedIn(caller), request),
    'sale.cancel': (request, { caller }) => services.sales.cancel(signedIn(caller), request),
    'rules.import': ({ envelope }) => services.eligibility.importBundle(envelope),
    'benefits.products': () => services.eligibility.benefitProducts(),
    'sync.status': () => services.sync.status(),
    'sync.now': () => services.sync.syncNow(),
    'sync.register': async (request, { caller }) => {
      const status = await services.sync.register(request)
      if (caller)
        await auth.record(signedIn(caller), 'terminal_registered', status.terminalId, {
          territory: request.territory
        })
      return status
    },
    'files.exportQueue': (_, { caller }) => services.files.exportQueue(signedIn(caller)),
    'files.importPackage': ({ uploadId }, { caller }) =>
      services.files.importPackage(signedIn(caller), uploadId),
    'reader.getSettings': () => services.readerSettings.get(),
    'reader.saveSettings': (settings) => services.readerSettings.save(settings),
    'printer.getSettings': () => services.printerSettings.get(),
    'printer.saveSettings': (settings) => services.printerSettings.save(settings),
    'report.summary': (request) => services.reports.summary(request),
    'report.officeSummary': (request) => services.reports.officeSummary(request),
    'report.closeDayCheck': (request) => services.reports.closeDayCheck(request),
    'report.handOver': (request, { caller }) => services.reports.handOver(signedIn(caller), request),
    'report.closeDay': (request, { caller }) => services.reports.closeDay(signedIn(caller), request),
    'report.closeShift': (request, { caller }) => services.reports.closeShift(signedIn(caller), request),
    'report.closes': (range) => services.reports.closes(range),
    'report.shifts': (range) => services.reports.shifts(range),
    'report.close': (request) => services.reports.close(request),
    'report.document': ({ source }, { caller }) => services.reportExport.document(signedIn(caller), source),
    'report.export': ({ source, format }, { caller }) =>
      services.reportExport.export(signedIn(caller), source, format),
    'operators.list': () => services.supervision.listOperators(),
    'operators.create': (operator, { caller }) =>
      services.supervision.createOperator(signedIn(caller), operator),
    'operators.setActive': (request, { caller }) => services.supervision.setActive(signedIn(caller), request),
    'operators.resetPin': (request, { caller }) => services.supervision.resetPin(signedIn(caller), request),
    'audit.list': (filter) => services.supervision.auditLog(filter),
    'audit.verify': () => services.records.check(),
    'rejections.list': (filter) => services.supervision.rejections(filter),
    'rejections.followUp': (request, { caller }) => services.supervision.followUp(signedIn(caller), request),
    'rejections.revealMobile': (request, { caller }) =>
      services.supervision.revealMobile(signedIn(caller), request)
  }
}
