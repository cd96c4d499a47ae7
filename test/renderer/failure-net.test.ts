import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent } from 'vue'
import { i18n } from '../../renderer/src/i18n'
import { installFailureNet } from '../../renderer/src/unexpected'
import { until } from '../support/wait'

afterEach(() => {
  document.body.innerHTML = ''
})

describe('the failure net under every handler', () => {
  it('shows a Chinese message and sounds the error cue when a handler bound in a template rejects', async () => {
    const Failing = defineComponent({
      setup: () => ({ act: () => Promise.reject(new Error('unexpected')) }),
      template: '<button data-test="act" @click="act">办理</button>'
    })
    delete document.documentElement.dataset.lastCue
    const wrapper = mount(Failing, {
      attachTo: document.body,
      global: { plugins: [i18n, { install: (app) => installFailureNet(app, window) }] }
    })
    await wrapper.get('[data-test="act"]').trigger('click')
    await flushPromises()
    await until(() =>
      expect(document.body.querySelector('.el-message--error')?.textContent).toContain(
        '操作没有完成：程序出现意外错误'
      )
    )
    expect(document.documentElement.dataset.lastCue).toBe('error')
    wrapper.unmount()
  })
})
