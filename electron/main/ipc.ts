import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import { API_CHANNEL } from '../../core/api/channel'
import { fail, type Result } from '../../core/errors'
import type { Dispatch } from '../../backend/api/dispatch'

/** The one IPC handler: checks who sent it, then hands the call to the same dispatcher browser mode uses. */
export function registerApi(
  ipcMain: IpcMain,
  dispatch: Dispatch,
  isTrusted: (event: IpcMainInvokeEvent) => boolean
): void {
  ipcMain.handle(
    API_CHANNEL,
    async (event, call: unknown, args: unknown, token: unknown): Promise<Result<unknown>> => {
      if (!isTrusted(event)) return fail('FORBIDDEN', '此页面无权调用柜台功能')
      return dispatch(call, args, {
        transport: 'ipc',
        sessionToken: typeof token === 'string' ? token : undefined
      })
    }
  )
}
