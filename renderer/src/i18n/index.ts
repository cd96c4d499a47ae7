import { createI18n } from 'vue-i18n'
import type { AppErrorShape } from '@core/errors'
import en from './en'
import zhCN from './zh-CN'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]

const STORAGE_KEY = 'counter.locale'

function savedLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY)
  return LOCALES.find((locale) => locale === saved) ?? 'zh-CN'
}

export const i18n = createI18n<[typeof zhCN], Locale, false>({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en }
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  globalThis.localStorage?.setItem(STORAGE_KEY, locale)
  document.documentElement.lang = locale
}

/**
 * The services word their refusals in Chinese for the clerk; in another locale the code's
 * translation comes first and the Chinese detail stays, since it names what exactly was wrong.
 */
export function errorText(error: AppErrorShape): string {
  const { locale, t, te } = i18n.global
  if (locale.value === 'zh-CN') return error.message
  const key = `errors.${error.code}`
  return te(key) ? `${t(key)} (${error.message})` : error.message
}
