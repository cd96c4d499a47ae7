import { flushPromises, mount } from '@vue/test-utils'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import RulesImportCard from '../../renderer/src/components/settings/RulesImportCard.vue'
import { i18n } from '../../renderer/src/i18n'
import { useAuthStore } from '../../renderer/src/stores/auth'
import { installRealBridge } from './bridge'
import { until } from '../support/wait'

const BUNDLES = join(import.meta.dirname, '../../bundles/signed')

/** Picks `text` as the file in the card's hidden file input, as the system dialog would. */
async function choose(wrapper: ReturnType<typeof mount>, name: string, text: string): Promise<void> {
  const input = wrapper.get('input[data-test="rules-import-file"]').element as HTMLInputElement
  Object.defineProperty(input, 'files', { value: [new File([text], name)], configurable: true })
  input.dispatchEvent(new Event('change'))
  await flushPromises()
}

describe('settings: a rule bundle file, by a supervisor', () => {
  it('takes a genuine file, refuses an altered one in Chinese, and a clerk cannot choose one', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    await installRealBridge({ role: 'supervisor' })
    expect(await useAuthStore().signIn('9001', '999999')).toBeNull()
    const wrapper = mount(RulesImportCard, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    const genuine = await readFile(join(BUNDLES, '330800-v2.bundle.json'), 'utf8')
    await choose(wrapper, '330800-v2.bundle.json', genuine)
    await until(() =>
      expect(wrapper.find('[data-test="rules-import-done"]').text()).toContain('衢州市规则第 2 版已在本机')
    )
    await choose(wrapper, 'altered.json', genuine.replace('10000', '10001'))
    await until(() => expect(wrapper.find('[data-test="rules-import-error"]').text()).toContain('签名'))
    expect(wrapper.find('[data-test="rules-import-done"]').exists()).toBe(false)
    wrapper.unmount()

    await useAuthStore().signOut()
    expect(await useAuthStore().signIn('1001', '111111')).toBeNull()
    const clerkView = mount(RulesImportCard, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    expect(clerkView.get('button').attributes('disabled')).toBeDefined()
    clerkView.unmount()
  })
})
