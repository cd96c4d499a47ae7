import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { version } from '../../package.json'
import type { CallInput, CallName, CallResult } from '../../core/api/contract'
import { RELATIONS } from '../../core/cardholder'
import { AppError, fail, ok, type Result } from '../../core/errors'
import { parseYuan } from '../../core/money'
import { systemClock } from '../../core/time'
import { stderrLogger } from '../services/log'
import { openCounterRuntime, resolveDataDir } from '../runtime'

/**
 * `npm run cli -- <command> …`: support staff explain a decision from the terminal's own data, and
 * tests ask for decisions from outside the UI. Every command goes through the same API dispatcher
 * as the UI and prints its result as JSON.
 */

const USAGE = `用法：npm run cli -- <命令> [参数]
  check   --card <卡号或身份证号> --product <产品代码> [--units <份数> | --amount <金额，元>]
          [--relation self|${RELATIONS.join('|')} --insured-id <被保险人身份证号>]
          [--enrolled | --not-enrolled] [--covered] [--at <时间，ISO 8601>]
  offers  --card <卡号或身份证号> [--at <时间，ISO 8601>]   本人可购买的产品与可用额度
  import-bundle <规则包文件>             导入中心签发的规则包
  register --centre <中心地址> --code <注册码> --territory <网点>   向中心注册本终端
  sync                                  立即同步：上传待传交易，下载规则与账户数据
  status                                与中心的连接、待上传与被拒交易、离线限额
  export-queue <文件>                   把待上传交易导出为签名文件，交中心导入（长时间离线时）
  import-package <文件>                 导入中心制作的签名同步包（规则、账户数据与处理结果）
通用：  --data-dir <目录>（默认 COUNTER_DATA_DIR，或 ./.counter-data）`

class UsageError extends Error {}
/** `--help`: the usage was asked for, so it goes to stdout and the exit code is 0. */
class HelpAsked extends Error {}

/** File commands are not API calls (a file path means nothing to the renderer): their refusals print like one. */
async function fileCommand(run: () => Promise<unknown>): Promise<Result<unknown>> {
  try {
    return ok(await run())
  } catch (error) {
    if (error instanceof AppError) return fail(error.code, error.message)
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT')
      return fail('FILE_REFUSED', '找不到文件')
    throw error
  }
}

function print(result: Result<unknown>): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      card: { type: 'string' },
      product: { type: 'string' },
      units: { type: 'string' },
      amount: { type: 'string' },
      relation: { type: 'string', default: 'self' },
      'insured-id': { type: 'string' },
      enrolled: { type: 'boolean' },
      'not-enrolled': { type: 'boolean' },
      covered: { type: 'boolean' },
      at: { type: 'string' },
      'data-dir': { type: 'string' },
      centre: { type: 'string' },
      code: { type: 'string' },
      territory: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  const [command, ...rest] = positionals
  if (values.help) throw new HelpAsked(USAGE)
  if (!command) throw new UsageError(USAGE)

  const dataDir = values['data-dir'] ?? resolveDataDir(process.env, join(process.cwd(), '.counter-data'))
  const runtime = await openCounterRuntime({
    dataDir,
    clock: systemClock,
    log: stderrLogger,
    appVersion: version
  })
  const call = <K extends CallName>(name: K, args: CallInput<K>) =>
    runtime.dispatch(name, args, { transport: 'cli' }) as Promise<CallResult<K>>
  try {
    let result: Result<unknown>
    if (command === 'check') {
      if (!values.card || !values.product) throw new UsageError(`check 需要 --card 和 --product\n${USAGE}`)
      const relation = values.relation as CallInput<'eligibility.check'>['insured']['relation']
      const amountFen = values.amount === undefined ? undefined : parseYuan(values.amount)
      if (amountFen === null)
        throw new UsageError(`--amount 应为金额（元，最多两位小数），现在是「${values.amount}」`)
      result = await call('eligibility.check', {
        payer: { card: values.card },
        insured: {
          relation,
          idNumber: values['insured-id'],
          enrolledLocally: values.enrolled ? true : values['not-enrolled'] ? false : undefined,
          alreadyCovered: values.covered
        },
        productCode: values.product,
        units: values.units === undefined ? undefined : Number(values.units),
        amountFen,
        at: values.at
      })
    } else if (command === 'offers') {
      if (!values.card) throw new UsageError(`offers 需要 --card\n${USAGE}`)
      const found = await call('cardholder.lookup', { input: values.card })
      result = found.ok
        ? await call('eligibility.offers', { accountId: found.value.accountId, at: values.at })
        : found
    } else if (command === 'import-bundle') {
      if (rest.length !== 1) throw new UsageError(`import-bundle 需要一个规则包文件\n${USAGE}`)
      const envelope = await readFile(rest[0], 'utf8').catch(() => null)
      result =
        envelope === null
          ? fail('INVALID_ARGUMENT', `无法读取文件：${rest[0]}`)
          : await call('rules.import', { envelope })
    } else if (command === 'register') {
      if (!values.centre || !values.code || !values.territory)
        throw new UsageError(`register 需要 --centre、--code 和 --territory\n${USAGE}`)
      result = await call('sync.register', {
        centreUrl: values.centre,
        enrolmentCode: values.code,
        territory: values.territory
      })
    } else if (command === 'sync') {
      result = await call('sync.now', {})
    } else if (command === 'status') {
      result = await call('sync.status', {})
    } else if (command === 'export-queue' || command === 'import-package') {
      if (rest.length !== 1) throw new UsageError(`${command} 需要一个文件\n${USAGE}`)
      result = await fileCommand(() =>
        command === 'export-queue' ? runtime.sync.exportQueue(rest[0]) : runtime.sync.importPackage(rest[0])
      )
    } else {
      throw new UsageError(`没有命令「${command}」\n${USAGE}`)
    }
    print(result)
    return result.ok ? 0 : 1
  } finally {
    await runtime.close()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof HelpAsked) {
      process.stdout.write(`${error.message}\n`)
      process.exit(0)
    }
    if (
      error instanceof UsageError ||
      (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`出错：${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
)
