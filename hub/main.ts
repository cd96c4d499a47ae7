import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatYuan } from '../core/money'
import { formatShanghaiDateTime, systemClock } from '../core/time'
import { stderrLogger } from '../backend/shared'
import { importAccounts, ImportRefused } from './accounts-import'
import { openHubDatabase } from './db/open'
import { addEnrolmentCode, DEMO_ENROLMENT_CODES, seedSyntheticAccounts } from './db/seed'
import { pruneRemovals } from './db/state'
import { centreSigningKey } from './file-key'
import { exportPackage, FileRefused, importQueueFile, readQueueFileText } from './files'
import { issueVoucher, setKeyedSalesPolicy } from './payer'
import { addRuleBundle, createBundleCache, withdrawRules } from './rules'
import { listTerminals, revokeTerminal } from './terminals'
import { writeInsurerStatements } from './statement'
import type { RateLimit } from './rate-limit'
import { DEFAULT_RATE_LIMITS, InsecureListenError, startHub } from './server'

/**
 * `npm run hub`: the reference medical-insurance centre on 127.0.0.1, for demos and tests.
 * PORT (default 8790), HUB_DATA_DIR (default .hub-data/ in the repository), DATABASE_URL
 * (postgres://…: the centre's database on a PostgreSQL server instead of SQLite in HUB_DATA_DIR), HUB_TEST_HOOKS=1 adds
 * the /v1/_test/* calls, HUB_SIGNING_KEY with HUB_SIGNING_KEY_ID sign with a key of the centre's
 * own instead of the demo key, HUB_POLICY_DELAY_SECONDS is how long the insurer takes to issue a
 * policy, HUB_PROTOCOL=1 plays a centre of protocol version 1. HUB_HOST (default 127.0.0.1) with
 * HUB_TLS_CERT and HUB_TLS_KEY serve HTTPS on another address. Subcommands work on the same data
 * folder, also while the server runs.
 */

const USAGE = `用法：npm run hub [-- <命令> [参数]]
  （无命令）                                    启动中心参考实现：PORT（默认 8790），HUB_DATA_DIR（默认 .hub-data/）
  import-queue <文件>                           导入终端导出的待上传文件：验签、解密、去重、结算，可重复导入
  export-package --terminal <终端编号> <文件>    为终端制作同步包：规则包、全量账户数据与中心的结算结果
  import-accounts <文件> [--allow-removals]      导入医保平台导出的参保账户（CSV 或 NDJSON，逐行校验，全部成功才生效）；
                                                再次导入只改动有变化的账户，文件中不再有的账户删除
  seed-synthetic <数量>                         加入合成账户（压力测试用）
  publish-rules <文件>                          发布一个已签名的规则包（验签通过才加入；同一版本再次发布不改动）
  withdraw-rules <地区代码> <版本>               撤回一个规则包版本：不再下发，按它办理的交易被拒绝
  statement --from <日期> --to <日期> --out <目录> [--insurer <保险公司>]
                                                各保险公司的结算对账单（xlsx 与 CSV）：新单、续期、犹豫期退保、冲正，按地区与产品
  terminals                                     列出全部终端：编号、网点、地区、注册时间、是否停用
  revoke-terminal <终端编号> [--reason <原因>]   停用终端：令牌立即失效，不能再换令牌、重新注册或导入其文件
  add-enrolment-code <注册码> --regions <地区代码,…> [--reusable]
                                                发放注册码：一台终端凭它注册，办理所列地区（--reusable：可反复使用）
  prune-removals <版本>                         清理该版本及以前的账户删除记录；此前的增量请求改发全量快照
  issue-voucher <社保卡号>                      为该参保人签发医保电子凭证码（5 分钟内有效），演示扫码付款
  keyed-sales accept|refuse                     是否受理手工输入卡号的交易
限速：HUB_RATE_LIMIT_TERMINAL、HUB_RATE_LIMIT_ADDRESS=<每秒次数>/<突发次数> 或 off（默认 20/120 与 5/60）
网络：HUB_HOST（默认 127.0.0.1）；监听其他地址须同时设置 HUB_TLS_CERT、HUB_TLS_KEY（PEM 证书与私钥），或由本机反向代理对外（docs/centre.md）
数据库：DATABASE_URL=postgres://用户@主机:端口/数据库 时使用 PostgreSQL（可多个进程共用；HUB_DB_CONNECTIONS 每进程连接数，默认 10；HUB_UPLOADS_AT_ONCE 每进程同时结算的上传数，默认 2），否则使用 HUB_DATA_DIR 中的 SQLite 文件
保险公司：HUB_POLICY_DELAY_SECONDS=<秒>（默认 0）受理后过多久签发保单号；HUB_PROTOCOL=1 扮演协议版本 1 的旧中心
签名：HUB_SIGNING_KEY=<Ed25519 私钥文件> HUB_SIGNING_KEY_ID=<密钥编号> 时用中心自己的密钥签名（文件加密密钥、同步包），否则用演示密钥
测试：HUB_TEST_HOOKS=1 时另有 POST /v1/_test/faults、/v1/_test/withdraw-rules、/v1/_test/account-status、/v1/_test/voucher、/v1/_test/keyed-sales`

class UsageError extends Error {}

/**
 * HUB_RATE_LIMIT_TERMINAL and HUB_RATE_LIMIT_ADDRESS: `<per second>/<burst>` (e.g. 20/120), or
 * `off`; unset: the defaults (hub/server.ts DEFAULT_RATE_LIMITS).
 */
function rateLimits(): { terminal: RateLimit; address: RateLimit } | false {
  const read = (name: string, fallback: RateLimit): RateLimit | null => {
    const text = process.env[name] ?? ''
    if (text === '') return fallback
    if (text === 'off') return null
    const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(text)
    if (!match || Number(match[1]) <= 0 || Number(match[2]) < 1)
      throw new UsageError(`${name} 应为「每秒次数/突发次数」（如 20/120）或 off，现在是「${text}」`)
    return { perSecond: Number(match[1]), burst: Number(match[2]) }
  }
  const terminal = read('HUB_RATE_LIMIT_TERMINAL', DEFAULT_RATE_LIMITS.terminal)
  const address = read('HUB_RATE_LIMIT_ADDRESS', DEFAULT_RATE_LIMITS.address)
  if (!terminal && !address) return false
  const unlimited = { perSecond: 1e9, burst: 1e9 }
  return { terminal: terminal ?? unlimited, address: address ?? unlimited }
}

/** HUB_TLS_CERT and HUB_TLS_KEY: both or neither; a file that cannot be read is said so, in Chinese. */
async function tlsFiles(): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  const certFile = process.env.HUB_TLS_CERT || ''
  const keyFile = process.env.HUB_TLS_KEY || ''
  if (certFile === '' && keyFile === '') return undefined
  if (certFile === '' || keyFile === '')
    throw new UsageError('HUB_TLS_CERT 与 HUB_TLS_KEY 须同时设置（PEM 格式的证书与私钥文件）')
  const read = (file: string, what: string) =>
    readFile(file).catch(() => {
      throw new UsageError(`无法读取${what}文件：${file}`)
    })
  return { cert: await read(certFile, 'TLS 证书'), key: await read(keyFile, 'TLS 私钥') }
}
/** `--help`: the usage was asked for, so it goes to stdout and the exit code is 0. */
class HelpAsked extends Error {}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      terminal: { type: 'string' },
      regions: { type: 'string' },
      reusable: { type: 'boolean' },
      'allow-removals': { type: 'boolean' },
      reason: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      insurer: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) throw new HelpAsked(USAGE)
  const [command, ...rest] = positionals
  if (
    command !== undefined &&
    ![
      'serve',
      'import-queue',
      'import-accounts',
      'export-package',
      'seed-synthetic',
      'withdraw-rules',
      'publish-rules',
      'terminals',
      'statement',
      'revoke-terminal',
      'add-enrolment-code',
      'prune-removals',
      'issue-voucher',
      'keyed-sales'
    ].includes(command)
  ) {
    throw new UsageError(`未知命令：${command}\n${USAGE}`)
  }
  const dataDir = resolve(process.env.HUB_DATA_DIR || join(root, '.hub-data'))
  const clock = systemClock
  /** Uploads settled at once per process (PostgreSQL); authorizations never wait for one. */
  const uploadTurns = () => {
    const text = process.env.HUB_UPLOADS_AT_ONCE
    if (text === undefined || text === '') return undefined
    if (!/^\d{1,2}$/.test(text) || Number(text) < 1)
      throw new UsageError(`HUB_UPLOADS_AT_ONCE 应为 1–99 的整数，现在是「${text}」`)
    return Number(text)
  }
  const connectionsText = process.env.HUB_DB_CONNECTIONS ?? '10'
  if (!/^\d{1,3}$/.test(connectionsText) || Number(connectionsText) < 4)
    throw new UsageError(`HUB_DB_CONNECTIONS 应为 4–999 的整数，现在是「${connectionsText}」`)
  const db = await openHubDatabase(dataDir, {
    clock,
    databaseUrl: process.env.DATABASE_URL || undefined,
    connections: Number(connectionsText)
  })
  const bundles = createBundleCache()

  if (command === undefined || command === 'serve') {
    const port = Number(process.env.PORT ?? 8790)
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`PORT 应为 0–65535 的整数，现在是「${process.env.PORT}」`)
    const delayText = process.env.HUB_POLICY_DELAY_SECONDS ?? '0'
    if (!/^\d{1,7}$/.test(delayText))
      throw new UsageError(`HUB_POLICY_DELAY_SECONDS 应为非负整数（秒），现在是「${delayText}」`)
    const protocolText = process.env.HUB_PROTOCOL ?? '2'
    if (protocolText !== '1' && protocolText !== '2')
      throw new UsageError(`HUB_PROTOCOL 应为 1 或 2，现在是「${protocolText}」`)
    const tls = await tlsFiles()
    const hub = await startHub({
      db,
      clock,
      log: stderrLogger,
      port,
      host: process.env.HUB_HOST || '127.0.0.1',
      tls,
      rateLimits: rateLimits(),
      testHooks: process.env.HUB_TEST_HOOKS === '1',
      policyDelayMs: Number(delayText) * 1000,
      protocol: protocolText === '1' ? 1 : 2,
      uploadConcurrency: uploadTurns()
    })
    process.stdout.write(`医保中心参考实现已启动：${hub.url}\n数据目录：${dataDir}\n演示注册码：\n`)
    for (const code of DEMO_ENROLMENT_CODES) {
      process.stdout.write(
        `  ${code.code.padEnd(12)} 地区 ${code.regionCodes.join('、')}${code.reusable ? '（演示用，可反复使用）' : '（一次性）'}\n`
      )
    }
    if (process.env.HUB_TEST_HOOKS === '1') process.stdout.write('测试接口已开启：POST /v1/_test/faults\n')
    await new Promise<void>((done) => {
      const stop = (signal: string) => {
        process.stdout.write(`收到 ${signal}，正在关闭…\n`)
        done()
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
    })
    await hub.close()
    await db.destroy()
    return 0
  }

  try {
    if (command === 'import-queue') {
      const [file] = rest
      if (!file || rest.length !== 1) throw new UsageError(`import-queue 需要一个文件\n${USAGE}`)
      const imported = await importQueueFile(db, await readQueueFileText(file), {
        clock,
        bundles,
        log: stderrLogger
      })
      process.stdout.write(`终端 ${imported.terminalId}：共 ${imported.results.length} 笔\n`)
      for (const [outcome, count] of Object.entries(imported.summary).sort())
        process.stdout.write(`  ${outcome}：${count}\n`)
      for (const result of imported.results) {
        if (result.outcome === 'rejected')
          process.stdout.write(`  拒绝 ${result.itemId} ${result.code}：${result.message}\n`)
        if (result.outcome === 'retryLater')
          process.stdout.write(`  暂缓 ${result.itemId}：${result.message}\n`)
      }
      process.stdout.write(
        `${JSON.stringify({ terminalId: imported.terminalId, summary: imported.summary })}\n`
      )
      return 0
    }
    if (command === 'import-accounts') {
      const [file] = rest
      if (!file || rest.length !== 1) throw new UsageError(`import-accounts 需要一个文件\n${USAGE}`)
      const started = Date.now()
      const imported = await importAccounts(db, resolve(file), {
        clock,
        allowManyRemovals: values['allow-removals'] === true
      })
      process.stdout.write(
        `已导入 ${imported.rows} 行（地区 ${imported.regions.join('、')}）：新增 ${imported.added}，变更 ${imported.changed}，未变 ${imported.unchanged}，删除 ${imported.removed}${imported.version === null ? '；没有改动' : `；快照版本 ${imported.version}`}，用时 ${((Date.now() - started) / 1000).toFixed(1)} 秒\n`
      )
      return 0
    }
    if (command === 'export-package') {
      const [file] = rest
      if (!values.terminal || !file || rest.length !== 1)
        throw new UsageError(`export-package 需要 --terminal <终端编号> 和一个文件\n${USAGE}`)
      const exported = await exportPackage(db, {
        terminalId: values.terminal,
        file: resolve(file),
        clock,
        bundles,
        ...(await centreSigningKey())
      })
      const { header, accounts } = exported.snapshot
      process.stdout.write(
        `同步包已写入 ${exported.file}：规则包 ${exported.ruleEnvelopes} 个，账户 ${accounts} 个（快照版本 ${header.snapshotVersion}），结算结果 ${exported.results} 条\n`
      )
      return 0
    }
    if (command === 'seed-synthetic') {
      const count = Number(rest[0])
      if (rest.length !== 1 || !Number.isSafeInteger(count) || count <= 0)
        throw new UsageError(`seed-synthetic 需要一个正整数\n${USAGE}`)
      const started = Date.now()
      await seedSyntheticAccounts(db, count, { clock })
      process.stdout.write(
        `已加入 ${count} 个合成账户，用时 ${((Date.now() - started) / 1000).toFixed(1)} 秒\n`
      )
      return 0
    }
    if (command === 'publish-rules') {
      const [file] = rest
      if (!file || rest.length !== 1)
        throw new UsageError(`publish-rules 需要一个已签名的规则包文件\n${USAGE}`)
      const envelope = await readFile(resolve(file), 'utf8').catch(() => {
        throw new UsageError(`无法读取规则包文件：${file}`)
      })
      const published = await addRuleBundle(db, envelope, clock).catch((error: unknown) => {
        throw new UsageError(error instanceof Error ? error.message : String(error))
      })
      process.stdout.write(`已发布地区 ${published.regionCode} 第 ${published.version} 版规则包\n`)
      return 0
    }
    if (command === 'statement') {
      const date = /^\d{4}-\d{2}-\d{2}$/
      if (!date.test(values.from ?? '') || !date.test(values.to ?? '') || !values.out || rest.length > 0)
        throw new UsageError(`statement 需要 --from、--to（YYYY-MM-DD，北京时间）和 --out 目录\n${USAGE}`)
      if ((values.from ?? '') > (values.to ?? '')) throw new UsageError('statement 的 --from 不能晚于 --to')
      const written = await writeInsurerStatements(db, {
        period: { from: values.from ?? '', to: values.to ?? '' },
        dir: resolve(values.out),
        clock,
        insurer: values.insurer
      })
      if (written.length === 0)
        process.stdout.write(
          `${values.from} 至 ${values.to} 没有${values.insurer ? ` ${values.insurer} 的` : ''}结算业务，未生成对账单\n`
        )
      for (const statement of written)
        process.stdout.write(
          `${statement.insurer}：${statement.lines} 笔，应结 ${formatYuan(statement.owedFen)} 元 → ${statement.files.join('，')}\n`
        )
      return 0
    }
    if (command === 'terminals') {
      const terminals = await listTerminals(db)
      for (const t of terminals)
        process.stdout.write(
          `${t.id}\t${t.territory}\t地区 ${t.regionCodes.join('、')}\t版本 ${t.appVersion}（协议 ${t.protocolVersion}）\t注册于 ${formatShanghaiDateTime(t.registeredAt)}\t${t.revokedAt ? `已停用（${formatShanghaiDateTime(t.revokedAt)}：${t.revokedReason ?? ''}）` : '在用'}\n`
        )
      process.stdout.write(
        `共 ${terminals.length} 台，在用 ${terminals.filter((t) => !t.revokedAt).length} 台\n`
      )
      return 0
    }
    if (command === 'revoke-terminal') {
      const [id] = rest
      if (!id || rest.length !== 1) throw new UsageError(`revoke-terminal 需要终端编号\n${USAGE}`)
      const revoked = await revokeTerminal(db, id, values.reason ?? '中心停用', clock)
      process.stdout.write(revoked ? `已停用终端 ${id}：令牌已失效\n` : `没有在用的终端 ${id}\n`)
      return revoked ? 0 : 1
    }
    if (command === 'withdraw-rules') {
      const [region, version] = rest
      if (!/^\d{6}$/.test(region ?? '') || !/^\d+$/.test(version ?? ''))
        throw new UsageError(`withdraw-rules 需要地区代码和版本号\n${USAGE}`)
      const withdrawn = await withdrawRules(db, region, Number(version), '中心撤回', clock)
      process.stdout.write(
        withdrawn
          ? `已撤回地区 ${region} 第 ${version} 版规则包\n`
          : `没有可撤回的地区 ${region} 第 ${version} 版规则包\n`
      )
      return withdrawn ? 0 : 1
    }
    if (command === 'add-enrolment-code') {
      const [code] = rest
      const regions = (values.regions ?? '').split(',').filter((region) => region !== '')
      if (
        !/^[\w-]{4,64}$/.test(code ?? '') ||
        rest.length !== 1 ||
        regions.length === 0 ||
        !regions.every((r) => /^\d{6}$/.test(r))
      )
        throw new UsageError(
          `add-enrolment-code 需要注册码（4–64 位字母、数字或 -）和 --regions 地区代码\n${USAGE}`
        )
      const added = await addEnrolmentCode(db, code, regions, clock, values.reusable === true)
      process.stdout.write(
        added
          ? `已发放注册码 ${code}：地区 ${regions.join('、')}${values.reusable ? '，可反复使用' : '，一次性'}\n`
          : `注册码 ${code} 已存在，没有改动\n`
      )
      return added ? 0 : 1
    }
    if (command === 'issue-voucher') {
      const [card] = rest
      const account = /^[A-Z0-9]{9}$/.test(card ?? '')
        ? await db('accounts').where({ card_number: card }).first<{ id: number } | undefined>('id')
        : undefined
      if (!account) throw new UsageError(`issue-voucher 需要中心已有的社会保障卡号\n${USAGE}`)
      const voucher = await issueVoucher(db, account.id, clock)
      process.stdout.write(
        `${voucher.code}\n有效至 ${formatShanghaiDateTime(voucher.expiresAt, true)}（北京时间）\n`
      )
      return 0
    }
    if (command === 'keyed-sales') {
      const [policy] = rest
      if (policy !== 'accept' && policy !== 'refuse')
        throw new UsageError(`keyed-sales 需要 accept 或 refuse\n${USAGE}`)
      await setKeyedSalesPolicy(db, policy)
      process.stdout.write(policy === 'accept' ? '受理手工输入卡号的交易\n' : '拒绝手工输入卡号的交易\n')
      return 0
    }
    if (command === 'prune-removals') {
      const [version] = rest
      if (!/^\d+$/.test(version ?? '') || rest.length !== 1)
        throw new UsageError(`prune-removals 需要一个版本号\n${USAGE}`)
      const floor = await pruneRemovals(db, Number(version))
      process.stdout.write(
        `已清理第 ${version} 版及以前的删除记录；基于第 ${floor} 版以前的增量请求将改发全量快照\n`
      )
      return 0
    }
    throw new UsageError(USAGE)
  } finally {
    await db.destroy()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof HelpAsked) {
      process.stdout.write(`${error.message}\n`)
      process.exit(0)
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    if (error instanceof InsecureListenError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    if (error instanceof ImportRefused) {
      process.stderr.write(`导入被拒绝，未做任何改动：${error.message}\n`)
      process.exit(1)
    }
    if (error instanceof FileRefused) {
      process.stderr.write(`文件被拒绝：${error.message}\n`)
      process.exit(1)
    }
    process.stderr.write(`中心出错：${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
)
