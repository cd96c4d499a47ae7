import type { AppInfo, Handlers } from '../../core/api/contract'
import type { CardholderService } from '../services/cardholder'
import type { EligibilityService } from '../services/eligibility'
import type { ReaderSettingsService } from '../services/reader-settings'

export interface Services {
  readonly cardholders: CardholderService
  readonly readerSettings: ReaderSettingsService
  readonly eligibility: EligibilityService
  appInfo(): Promise<AppInfo>
}

/** Binds each call of the contract to the service that answers it: nothing else lives here. */
export function createHandlers(services: Services): Handlers {
  return {
    'app.info': () => services.appInfo(),
    'cardholder.lookup': ({ input }) => services.cardholders.lookup(input),
    'eligibility.offers': ({ accountId }) => services.eligibility.offers(accountId),
    'eligibility.check': (request) => services.eligibility.check(request),
    'rules.import': ({ envelope }) => services.eligibility.importBundle(envelope),
    'reader.getSettings': () => services.readerSettings.get(),
    'reader.saveSettings': (settings) => services.readerSettings.save(settings),
  }
}
