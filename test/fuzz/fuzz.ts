/**
 * The structure-aware fuzzer: `npm run fuzz -- --seconds N [--seed S]`.
 *
 * Starts a real broker process (ephemeral ports, a temporary data directory), asks it which
 * APIs and versions it advertises, and sends it batches of generated requests
 * (request-generator.ts) over a few raw connections. After every batch it checks that the
 * broker is alive, that its RSS is under the bound, and that a well-behaved client still
 * produces and reads back exactly (broker-health.ts). Requests the generator left valid must
 * be answered with a response that decodes.
 *
 * Every request is drawn from one seeded generator and from nothing the broker says, so
 * `--seed S` replays the same sequence of requests (record timestamps aside). Exit code 0
 * when every check held, 1 on the first failure, 2 on bad arguments.
 *
 * Options: --seconds N (default 10), --seed S, --batches N (stop after N batches),
 * --exclude m1,m2 (leave out mutations, for triage; see MUTATIONS), --rss-limit-mib N, --verbose.
 */
import { parseArgs } from 'node:util'
import { randomInt } from 'node:crypto'
import { Reader } from '../../src/protocol/reader.js'
import { API_DEFINITIONS } from '../../src/protocol/registry.js'
import { decodeResponseHeader } from '../../src/protocol/headers.js'
import {
  makeDataDir, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'
import { isAlive, rssBytes, withTimeout, WellBehavedClient } from './broker-health.js'
import { FuzzLane, type Outcome } from './fuzz-lane.js'
import { Prng } from './prng.js'
import { RecordSetFactory } from './record-batches.js'
import {
  FUZZ_TOPICS, MUTATIONS, RequestGenerator, type AdvertisedApi, type FuzzRequest, type Mutation,
} from './request-generator.js'

/** The broker's RSS bound: far above its ~100 MiB working set, far below the machine. */
const DEFAULT_RSS_LIMIT_MIB = 1024
const LANES = 4
const REQUESTS_PER_BATCH = 16
const REQUEST_TIMEOUT_MS = 2_000
const BROKER_STOP_TIMEOUT_MS = 10_000
const DEATH_GRACE_MS = 2_000
const MIB = 1024 * 1024

interface Options {
  seconds: number
  seed: number
  batches: number
  enabled: Set<Mutation>
  rssLimitBytes: number
  /** Print every request with its outcome, and the broker's output as it comes. */
  verbose: boolean
}

interface Tally {
  requests: number
  batches: number
  maxRssBytes: number
  connections: number
  /** Valid requests the broker closed the connection on or did not answer in time. */
  validUnanswered: Map<string, number>
}

class FuzzFailure extends Error {}

function parseOptions (argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      seed: { type: 'string' },
      batches: { type: 'string' },
      exclude: { type: 'string', default: '' },
      'rss-limit-mib': { type: 'string', default: String(DEFAULT_RSS_LIMIT_MIB) },
      verbose: { type: 'boolean', default: false },
    },
  })
  const number = (name: string, raw: string, min: number): number => {
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`--${name} must be an integer of at least ${min}, got "${raw}"`)
    }
    return value
  }
  const excluded = values.exclude.split(',').map(name => name.trim()).filter(Boolean)
  for (const name of excluded) {
    if (!(MUTATIONS as readonly string[]).includes(name)) {
      throw new Error(`--exclude: unknown mutation "${name}" (known: ${MUTATIONS.join(', ')})`)
    }
  }
  return {
    seconds: number('seconds', values.seconds, 1),
    seed: values.seed === undefined ? randomInt(0, 2 ** 31) : number('seed', values.seed, 0),
    batches: values.batches === undefined ? Infinity : number('batches', values.batches, 1),
    enabled: new Set(MUTATIONS.filter(mutation => !excluded.includes(mutation))),
    rssLimitBytes: number('rss-limit-mib', values['rss-limit-mib'], 1) * MIB,
    verbose: values.verbose,
  }
}

async function advertisedApis (client: WellBehavedClient): Promise<AdvertisedApi[]> {
  const connection = await client.connection()
  const apis: AdvertisedApi[] = []
  for (const api of API_DEFINITIONS) {
    const broker = connection.brokerVersions(api.key)
    if (broker === undefined) continue
    const minVersion = Math.max(broker.min, api.minVersion)
    const maxVersion = Math.min(broker.max, api.maxVersion)
    if (minVersion <= maxVersion) apis.push({ api, minVersion, maxVersion })
  }
  return apis
}

/** A valid request's answer must be a response of its API and version that decodes whole. */
function checkAnswer (request: FuzzRequest, outcome: Outcome, apis: AdvertisedApi[],
  tally: Tally): void {
  if (!request.valid || !request.expectsResponse) return
  if (outcome.kind !== 'answered') {
    const key = `${request.description.split(' (')[0] ?? ''}: ${outcome.kind}`
    tally.validUnanswered.set(key, (tally.validUnanswered.get(key) ?? 0) + 1)
    return
  }
  const api = apis.find(entry => entry.api.key === request.apiKey)?.api
  if (api === undefined) return
  const reader = new Reader(outcome.frame)
  try {
    decodeResponseHeader(reader, api.key, request.version >= api.flexibleFrom)
    api.decodeResponse(reader, request.version)
    if (reader.remaining !== 0) throw new Error(`${reader.remaining} bytes left over`)
  } catch (error) {
    throw new FuzzFailure(`the answer to a valid ${request.description} does not decode: ` +
      `${(error as Error).message}`)
  }
}

async function runBatch (batch: FuzzRequest[], lanes: FuzzLane[], apis: AdvertisedApi[],
  tally: Tally, verbose: boolean): Promise<void> {
  await Promise.all(lanes.map(async (lane, index) => {
    for (let i = index; i < batch.length; i += lanes.length) {
      const request = batch[i] as FuzzRequest
      const outcome = await lane.send(request, REQUEST_TIMEOUT_MS)
      tally.requests++
      if (verbose) console.log(`fuzz: lane ${index} ${request.description}: ${outcome.kind}`)
      if (outcome.kind === 'connect-failed') {
        throw new FuzzFailure(`cannot connect to the broker: ${outcome.message}`)
      }
      checkAnswer(request, outcome, apis, tally)
    }
  }))
}

async function checkHealth (broker: BrokerProcess, client: WellBehavedClient, prng: Prng,
  options: Options, tally: Tally, warnings: ProcessWarnings): Promise<void> {
  if (!isAlive(broker.child)) throw new FuzzFailure('the broker process died')
  const warning = warnings.take()
  if (warning !== undefined) throw new FuzzFailure(`the broker printed: ${warning}`)
  const rss = await rssBytes(broker.child.pid ?? -1)
  if (rss === undefined) throw new FuzzFailure('the broker process is gone')
  tally.maxRssBytes = Math.max(tally.maxRssBytes, rss)
  if (rss > options.rssLimitBytes) {
    throw new FuzzFailure(`broker RSS ${Math.round(rss / MIB)} MiB is over the bound of ` +
      `${Math.round(options.rssLimitBytes / MIB)} MiB`)
  }
  try {
    await client.probe(prng)
  } catch (error) {
    if (!isAlive(broker.child)) throw new FuzzFailure('the broker process died')
    throw new FuzzFailure(`a well-behaved client failed: ${(error as Error).message}`)
  }
}

/**
 * Node's own process warnings in the broker's output, each a bug the fuzzer caught in the act:
 * "Closing file descriptor N on garbage collection" (a file handle leaked by the code that
 * opened it), TimeoutOverflowWarning (a timer past 2^31-1 ms, which fires at once),
 * MaxListenersExceededWarning (listeners piling up). Deprecation warnings are left out: they
 * come from dependencies and say nothing about the input.
 */
const LEAK_PATTERN = /\(node:\d+\) (?!\[DEP)(\w*Warning: [^\n]*)/

class ProcessWarnings {
  #carry = ''
  #found: string | undefined

  constructor (broker: BrokerProcess) {
    const scan = (chunk: Buffer): void => {
      const text = this.#carry + chunk.toString()
      const match = LEAK_PATTERN.exec(text)
      if (match !== null) this.#found ??= match[1]
      // Keep a line's worth so a match split across chunks is still seen.
      this.#carry = text.slice(-200)
    }
    broker.child.stdout?.on('data', scan)
    broker.child.stderr?.on('data', scan)
  }

  take (): string | undefined {
    const found = this.#found
    this.#found = undefined
    return found
  }
}

function lastLines (text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n')
}

async function fuzz (options: Options, broker: BrokerProcess, tally: Tally): Promise<void> {
  const baseTimestamp = Date.now()
  const client = new WellBehavedClient(broker.bootstrap, baseTimestamp)
  const lanes = Array.from({ length: LANES }, () => new FuzzLane('127.0.0.1', broker.kafkaPort))
  let batch: FuzzRequest[] = []
  const warnings = new ProcessWarnings(broker)
  try {
    await client.createProbeTopic()
    for (const topic of FUZZ_TOPICS) await client.createTopic(topic, 4)
    const apis = await withTimeout(advertisedApis(client), 15_000, 'asking for API versions')
    const generator = new RequestGenerator(apis, new RecordSetFactory(baseTimestamp),
      options.enabled)
    // Two streams: the requests', and the probe's, so neither shifts the other.
    const requestPrng = new Prng(options.seed)
    const probePrng = new Prng(options.seed ^ 0x5bd1e995)
    const deadline = Date.now() + options.seconds * 1000
    while (Date.now() < deadline && tally.batches < options.batches) {
      batch = []
      for (let i = 0; i < REQUESTS_PER_BATCH; i++) batch.push(await generator.next(requestPrng))
      tally.batches++
      await runBatch(batch, lanes, apis, tally, options.verbose)
      await checkHealth(broker, client, probePrng, options, tally, warnings)
    }
  } catch (error) {
    // A refused connection usually means the broker just died: give its exit (and the
    // stack trace it prints) a moment to arrive before reporting.
    await exitWithin(broker, DEATH_GRACE_MS)
    if (!isAlive(broker.child)) {
      const { exitCode, signalCode } = broker.child
      error = new FuzzFailure(`the broker process died (exit code ${exitCode}, signal ` +
        `${signalCode})`)
    }
    if (error instanceof FuzzFailure) {
      error.message += `\nin batch ${tally.batches}, whose requests were:\n` +
        batch.map(request => `  ${request.description}`).join('\n')
    }
    throw error
  } finally {
    for (const lane of lanes) lane.close()
    await client.close()
    tally.connections = lanes.reduce((sum, lane) => sum + lane.opened, 0)
  }
}

/** A broker on ephemeral ports, logging warnings only, with few offsets partitions. */
async function launchBroker (dataDir: string, verbose: boolean): Promise<BrokerProcess> {
  const broker = await startBroker({
    dataDir,
    outputTailBytes: 64 * 1024,
    env: {
      TRIBUTARY_LOG_LEVEL: 'warn',
      TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '4',
      TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    },
  })
  if (verbose) {
    broker.child.stdout?.on('data', chunk => process.stdout.write(chunk))
    broker.child.stderr?.on('data', chunk => process.stdout.write(chunk))
  }
  return broker
}

async function main (): Promise<number> {
  let options: Options
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (error) {
    console.error(`fuzz: ${(error as Error).message}`)
    return 2
  }
  console.log(`fuzz: seed ${options.seed}, ${options.seconds} s, RSS bound ` +
    `${Math.round(options.rssLimitBytes / MIB)} MiB`)
  const tally: Tally = {
    requests: 0, batches: 0, maxRssBytes: 0, connections: 0, validUnanswered: new Map(),
  }
  const dataDir = await makeDataDir('tributary-fuzz-')
  let broker: BrokerProcess
  try {
    broker = await launchBroker(dataDir, options.verbose)
  } catch (error) {
    await removeDataDir(dataDir)
    console.error(`FUZZ FAILED seed=${options.seed}: the broker did not start: ` +
      `${(error as Error).message}`)
    return 1
  }
  const running = broker
  const cleanUp = async (): Promise<void> => {
    const stopped = await Promise.race([running.stop(), delay(BROKER_STOP_TIMEOUT_MS)])
    if (stopped === 'timeout') await running.kill()
    await removeDataDir(dataDir)
  }
  const onSignal = (): void => { void cleanUp().finally(() => process.exit(1)) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let code = 0
  try {
    await fuzz(options, broker, tally)
  } catch (error) {
    code = 1
    const replay = `npm run fuzz -- --seed ${options.seed} --seconds ${options.seconds}`
    console.error(`FUZZ FAILED seed=${options.seed}: ${(error as Error).message}\n` +
      `replay: ${replay}` +
      (Number.isFinite(options.batches) ? '' : ` (or --batches ${tally.batches})`) +
      `\nbroker output (last lines):\n${lastLines(broker.output(), 40)}`)
  }
  await cleanUp()
  for (const [what, count] of tally.validUnanswered) {
    console.log(`fuzz: note: valid ${what} x${count}`)
  }
  console.log(`fuzz: ${tally.requests} requests, ${tally.connections} connections, seed ` +
    `${options.seed}, max RSS ${Math.round(tally.maxRssBytes / MIB)} MiB`)
  return code
}

async function exitWithin (broker: BrokerProcess, ms: number): Promise<void> {
  if (!isAlive(broker.child)) return
  await new Promise<void>(resolve => {
    const timer = setTimeout(resolve, ms)
    broker.child.once('exit', () => {
      clearTimeout(timer)
      // The last output chunks arrive just after 'exit'.
      setTimeout(resolve, 100)
    })
  })
}

function delay (ms: number): Promise<'timeout'> {
  return new Promise(resolve => setTimeout(() => resolve('timeout'), ms).unref())
}

// Exit explicitly: a handle the broker left half-open must not keep the fuzzer running.
process.exit(await main().catch(error => {
  console.error(`FUZZ FAILED: the fuzzer itself failed: ${(error as Error).stack ?? error}`)
  return 1
}))
