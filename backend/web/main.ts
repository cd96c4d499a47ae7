import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { version } from '../../package.json'
import { demoClock, systemClock, type Clock } from '../../core/time'
import { stderrLogger } from '../services/log'
import { openCounterRuntime, resolveDataDir } from '../runtime'
import { packageReceiver, startWebServer } from './server'

/**
 * `npm run web`: the counter in a browser, against the same services and a real SQLite file.
 * PORT (default 5180; 0 = any free port) and COUNTER_DATA_DIR (default ./.counter-data) are honoured.
 */

const DEFAULT_PORT = 5180

function parsePort(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_PORT
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT 应为 0–65535 的整数，现在是「${text}」`)
    process.exit(2)
  }
  return port
}

/**
 * COUNTER_TIME: a demo or an end-to-end test of a date rule (an enrolment window's last day and the
 * day after) runs browser mode at that time; COUNTER_TIME_MODE=fixed stops it there. Only here:
 * the Electron shell never reads it.
 */
function clockFrom(env: NodeJS.ProcessEnv): { clock: Clock; demo: boolean } {
  const text = env.COUNTER_TIME
  if (text === undefined || text.trim() === '') return { clock: systemClock, demo: false }
  const mode = env.COUNTER_TIME_MODE === 'fixed' ? 'fixed' : 'running'
  const clock = demoClock(text, mode)
  if (typeof clock === 'string') {
    console.error(clock)
    process.exit(2)
  }
  return { clock, demo: true }
}

async function main(): Promise<void> {
  const port = parsePort(process.env.PORT)
  const { clock, demo } = clockFrom(process.env)
  const dataDir = resolveDataDir(process.env, join(process.cwd(), '.counter-data'))
  const runtime = await openCounterRuntime({
    dataDir,
    clock,
    demoClock: demo,
    log: stderrLogger,
    appVersion: version
  })
  const staticDir = fileURLToPath(new URL('../renderer/', import.meta.url))
  const server = await startWebServer({
    port,
    staticDir,
    dispatch: runtime.dispatch,
    log: stderrLogger,
    receivePackage: packageReceiver(runtime)
  }).catch(async (error: NodeJS.ErrnoException) => {
    await runtime.close()
    if (error.code === 'EADDRINUSE') console.error(`端口 ${port} 已被占用：用 PORT=其他端口 npm run web 重试`)
    else console.error(`浏览器模式启动失败：${error.message}`)
    process.exit(1)
  })

  if (demo) console.log(`演示时钟：${clock.now().toISOString()}（COUNTER_TIME，仅浏览器模式）`)
  console.log(`柜台浏览器模式已启动：${server.url}`)
  console.log(`数据目录：${dataDir}`)
  console.log('按 Ctrl-C 停止')
  runtime.sync.start()

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await server.close()
    await runtime.close()
    console.log('已停止')
    process.exit(0)
  }
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
}

main().catch((error: unknown) => {
  console.error(`浏览器模式启动失败：${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
