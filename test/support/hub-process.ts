import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { freePort } from './ports'

const root = join(import.meta.dirname, '../..')

/**
 * The reference centre as its own process (`npm run hub`), on its own data folder: it can be
 * killed at any moment and started again on the same data, as a real centre could fail.
 */
export interface HubProcess {
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly output: () => string
  /** SIGKILL: no clean shutdown, nothing flushed that was not committed. */
  kill(): Promise<void>
  stop(): Promise<void>
}

export async function startHub(
  dataDir: string,
  options: { port?: number; env?: Record<string, string> } = {}
): Promise<HubProcess> {
  const port = options.port ?? (await freePort())
  // tsx as a loader in this very process, not its CLI: the CLI runs the hub in a grandchild a kill would miss.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HUB_DATA_DIR: dataDir, HUB_TEST_HOOKS: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hub exited at start:\n${output}`)
    try {
      const response = await fetch(`${url}/v1/health`)
      if (response.status < 500) break
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`hub did not start in time:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    port,
    dataDir,
    output: () => output,
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      child.kill('SIGTERM')
      await exited
    }
  }
}
