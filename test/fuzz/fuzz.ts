/**
 * The structure-aware fuzzer: `npm run fuzz -- --seconds N [--seed S]`.
 *
 * Starts a real broker process (ephemeral ports, a temporary data directory), asks it which
 * APIs and versions it advertises, and sends it batches of generated requests
 * (request-generator.ts) over a few raw connections, one at a time or pipelined. After every
 * batch it checks that the broker is alive, that its RSS is under the bound, that it printed
 * no Node process warning, and that a well-behaved client still produces and reads back
 * exactly (broker-health.ts). Requests the generator left valid must be answered, in order
 * and within HANG_TIMEOUT_MS where no rebalance is awaited, with a response that decodes.
 * Every RESTART_EVERY_BATCHES batches, and at the end, the broker must stop cleanly on
 * SIGTERM (exit code 0) and start again on its data, with the client's records intact.
 *
 * Every draw comes from one seeded generator, never from what the broker says, so `--seed S`
 * replays the same sequence of requests; only record timestamps and the group member ids the
 * broker hands out (which fill a drawn slot) differ. Exit code 0 when every check held, 1 on
 * the first failure, 2 on bad arguments.
 *
 * Options: see fuzz-options.ts (--seconds, --seed, --batches, --exclude, --rss-limit-mib,
 * --verbose).
 */
import type { JoinGroupResponse } from '../../src/protocol/apis/join-group.js'
import { decodeResponseHeader } from '../../src/protocol/headers.js'
import { Reader } from '../../src/protocol/reader.js'
import { API_DEFINITIONS } from '../../src/protocol/registry.js'
import { makeDataDir, removeDataDir } from '../support/broker-process.js'
import { isAlive, rssBytes, withTimeout, type WellBehavedClient } from './broker-health.js'
import { BrokerSession } from './broker-session.js'
import { MIB, parseOptions, type Options } from './fuzz-options.js'
import type { FuzzLane, Outcome } from './fuzz-lane.js'
import { Prng } from './prng.js'
import { RecordSetFactory } from './record-batches.js'
import {
  FUZZ_TOPICS, RequestGenerator, type AdvertisedApi, type FuzzRequest, type LearnedIds,
} from './request-generator.js'

const REQUESTS_PER_BATCH = 16
const REQUEST_TIMEOUT_MS = 2_000
/** A valid request unanswered this long is a hang (generous for a loaded CI machine). */
const HANG_TIMEOUT_MS = 10_000
/** JoinGroup and SyncGroup wait for the group's other members by design. */
const WAITING_APIS = new Set([11, 14])
/** The share of batches whose requests each lane writes back to back, without waiting. */
const PIPELINED_BATCHES = 0.25
/** A restart every so many batches (about every 20 s), so persisted damage shows. */
const RESTART_EVERY_BATCHES = 150
const DEATH_GRACE_MS = 2_000

interface Tally {
  requests: number
  batches: number
  maxRssBytes: number
  connections: number
  restarts: number
  /** Valid requests the broker closed the connection on or did not answer in time. */
  validUnanswered: Map<string, number>
}

class FuzzFailure extends Error {}
/** A failure of the restart check: the broker was stopped on purpose, so it is not a death. */
class RestartFailure extends FuzzFailure {}

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

const JOIN_GROUP_KEY = 11

/**
 * A valid request's answer must be a response of its API and version that decodes whole.
 * JoinGroup answers teach the generator real member ids and generations.
 */
function checkAnswer (request: FuzzRequest, outcome: Outcome, apis: AdvertisedApi[],
  tally: Tally, learned: LearnedIds): void {
  if (!request.valid || !request.expectsResponse) return
  if (outcome.kind !== 'answered') {
    const key = `${request.description.split(' (')[0] ?? ''}: ${outcome.kind}`
    tally.validUnanswered.set(key, (tally.validUnanswered.get(key) ?? 0) + 1)
    return
  }
  const api = apis.find(entry => entry.api.key === request.apiKey)?.api
  if (api === undefined) return
  const reader = new Reader(outcome.frame)
  let response: unknown
  try {
    decodeResponseHeader(reader, api.key, request.version >= api.flexibleFrom)
    response = api.decodeResponse(reader, request.version)
    if (reader.remaining !== 0) throw new Error(`${reader.remaining} bytes left over`)
  } catch (error) {
    throw new FuzzFailure(`the answer to a valid ${request.description} does not decode: ` +
      `${(error as Error).message}`)
  }
  if (api.key === JOIN_GROUP_KEY) {
    const joined = response as JoinGroupResponse
    learned.learn(joined.memberId, joined.generationId)
  }
}

/**
 * A valid request the broker must answer at once: every one but the group membership calls
 * that wait for a rebalance (JoinGroup, SyncGroup) by design. Its waits (Produce and Fetch
 * timeouts) are at most 200 ms as generated.
 */
function answersPromptly (requests: FuzzRequest[]): boolean {
  return requests.length === 1 && requests.every(request => request.valid &&
    request.expectsResponse && !WAITING_APIS.has(request.apiKey))
}

/**
 * Each lane takes every LANES-th request of the batch: one at a time, waiting for each
 * answer, or, in a pipelined batch, all written at once.
 */
async function runBatch (batch: FuzzRequest[], pipelined: boolean, lanes: FuzzLane[],
  generator: RequestGenerator, tally: Tally, verbose: boolean): Promise<void> {
  await Promise.all(lanes.map(async (lane, index) => {
    const share = batch.filter((_request, i) => i % lanes.length === index)
    const exchanges = pipelined ? [share] : share.map(request => [request])
    for (const requests of exchanges) {
      const mustAnswer = answersPromptly(requests)
      const outcomes = await lane.send(requests, mustAnswer ? HANG_TIMEOUT_MS : REQUEST_TIMEOUT_MS)
      for (const [i, request] of requests.entries()) {
        const outcome = outcomes[i] as Outcome
        tally.requests++
        if (verbose) {
          console.log(`fuzz: lane ${index}${pipelined ? ' (pipelined)' : ''} ` +
            `${request.description}: ${outcome.kind}`)
        }
        if (outcome.kind === 'connect-failed') {
          throw new FuzzFailure(`cannot connect to the broker: ${outcome.message}`)
        }
        if (outcome.kind === 'misordered') throw new FuzzFailure(outcome.message)
        if (mustAnswer && outcome.kind === 'timeout') {
          throw new FuzzFailure(`a valid ${request.description} went unanswered for ` +
            `${HANG_TIMEOUT_MS} ms`)
        }
        checkAnswer(request, outcome, generator.apis, tally, generator.learned)
      }
    }
  }))
}

async function checkHealth (session: BrokerSession, prng: Prng, options: Options,
  tally: Tally): Promise<void> {
  const { broker, client, warnings } = session
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
 * SIGTERM must stop the broker cleanly after whatever it was sent, and it must start again
 * on its data with the well-behaved client's last records where they were.
 */
async function restart (session: BrokerSession, dataDir: string, baseTimestamp: number,
  options: Options, tally: Tally, current: Current): Promise<BrokerSession> {
  const written = session.client.written
  tally.connections += session.connectionsOpened
  const code = await session.stop()
  if (code !== 0) {
    throw new RestartFailure(`the broker did not stop cleanly on SIGTERM: exit ${code}\n` +
      `broker output (last lines):\n${lastLines(session.broker.output(), 40)}`)
  }
  let next: BrokerSession
  try {
    next = await openSession(current, dataDir, baseTimestamp, options.verbose)
  } catch (error) {
    throw new RestartFailure(`the broker does not start again on its data: ` +
      `${(error as Error).message}`)
  }
  try {
    await next.client.verifyKept(written)
  } catch (error) {
    await next.stop()
    throw new RestartFailure(`after a restart: ${(error as Error).message}`)
  }
  tally.restarts++
  return next
}

/** The current session (or one starting), for clean-up from a signal handler or a failure. */
interface Current {
  session: BrokerSession | undefined
  opening: Promise<BrokerSession> | undefined
}

async function openSession (current: Current, dataDir: string, baseTimestamp: number,
  verbose: boolean): Promise<BrokerSession> {
  const opening = BrokerSession.open(dataDir, baseTimestamp, verbose)
  current.opening = opening
  try {
    current.session = await opening
    return current.session
  } finally {
    current.opening = undefined
  }
}

async function fuzz (options: Options, dataDir: string, current: Current,
  tally: Tally): Promise<void> {
  const baseTimestamp = Date.now()
  let session = await openSession(current, dataDir, baseTimestamp, options.verbose)
  await session.client.createProbeTopic()
  for (const topic of FUZZ_TOPICS) await session.client.createTopic(topic, 4)
  const apis = await withTimeout(advertisedApis(session.client), 15_000,
    'asking for API versions')
  const generator = new RequestGenerator(apis, new RecordSetFactory(baseTimestamp),
    options.enabled)
  // Two streams: the requests', and the probe's, so neither shifts the other.
  const requestPrng = new Prng(options.seed)
  const probePrng = new Prng(options.seed ^ 0x5bd1e995)
  const deadline = Date.now() + options.seconds * 1000
  let batch: FuzzRequest[] = []
  try {
    while (Date.now() < deadline && tally.batches < options.batches) {
      batch = []
      // A mutated request usually ends its connection, and the requests pipelined behind it
      // with it: pipelined batches are mostly valid, to test the answers' order.
      const pipelined = requestPrng.chance(PIPELINED_BATCHES)
      for (let i = 0; i < REQUESTS_PER_BATCH; i++) {
        batch.push(await generator.next(requestPrng, pipelined ? 0.1 : undefined))
      }
      tally.batches++
      await runBatch(batch, pipelined, session.lanes, generator, tally, options.verbose)
      await checkHealth(session, probePrng, options, tally)
      if (tally.batches % RESTART_EVERY_BATCHES === 0) {
        current.session = undefined
        session = await restart(session, dataDir, baseTimestamp, options, tally, current)
      }
    }
    current.session = undefined
    await restart(session, dataDir, baseTimestamp, options, tally, current)
  } catch (error) {
    throw await explain(error, session, batch, tally)
  }
}

/** Names a dead broker as such, and lists the batch a failure happened in. */
async function explain (error: unknown, session: BrokerSession, batch: FuzzRequest[],
  tally: Tally): Promise<unknown> {
  const { child } = session.broker
  // A refused connection usually means the broker just died: give its exit (and the stack
  // trace it prints) a moment to arrive before reporting.
  await exitWithin(session, DEATH_GRACE_MS)
  let failure = error
  if (!isAlive(child) && !(error instanceof RestartFailure)) {
    failure = new FuzzFailure(`the broker process died (exit code ${child.exitCode}, signal ` +
      `${child.signalCode})\nbroker output (last lines):\n${lastLines(session.broker.output(), 40)}`)
  }
  if (failure instanceof FuzzFailure) {
    failure.message += `\nin batch ${tally.batches}, whose requests were:\n` +
      batch.map(request => `  ${request.description}`).join('\n')
  }
  return failure
}

async function exitWithin (session: BrokerSession, ms: number): Promise<void> {
  const { child } = session.broker
  if (!isAlive(child)) return
  await new Promise<void>(resolve => {
    const timer = setTimeout(resolve, ms)
    child.once('exit', () => {
      clearTimeout(timer)
      // The last output chunks arrive just after 'exit'.
      setTimeout(resolve, 100)
    })
  })
}

function lastLines (text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n')
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
    requests: 0, batches: 0, maxRssBytes: 0, connections: 0, restarts: 0,
    validUnanswered: new Map(),
  }
  const dataDir = await makeDataDir('tributary-fuzz-')
  const current: Current = { session: undefined, opening: undefined }
  const cleanUp = async (): Promise<void> => {
    // A broker still starting would write into the directory after it is removed.
    const session = current.session ?? await current.opening?.catch(() => undefined)
    current.session = undefined
    if (session !== undefined) {
      tally.connections += session.connectionsOpened
      await session.stop()
    }
    await removeDataDir(dataDir)
  }
  const onSignal = (): void => { void cleanUp().finally(() => process.exit(1)) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let code = 0
  try {
    await fuzz(options, dataDir, current, tally)
  } catch (error) {
    code = 1
    const replay = `npm run fuzz -- --seed ${options.seed} --seconds ${options.seconds}`
    const [reason, ...details] = (error as Error).message.split('\n')
    console.error(`FUZZ FAILED seed=${options.seed} batch=${tally.batches}: ${reason} ` +
      `replay: ${replay}\n${details.join('\n')}` +
      (Number.isFinite(options.batches) ? '' : `\nto stop right after the failing batch: ` +
        `npm run fuzz -- --seed ${options.seed} --batches ${tally.batches} --seconds 3600`))
  }
  await cleanUp()
  console.log(`fuzz: ${tally.restarts} clean restart(s) on the fuzzed data`)
  // Valid requests go unanswered when a bad one pipelined after them closes the connection,
  // or when they wait (JoinGroup) past the lane's timeout: a note, not a failure.
  const unanswered = [...tally.validUnanswered.values()].reduce((sum, count) => sum + count, 0)
  if (unanswered > 0) console.log(`fuzz: ${unanswered} valid request(s) went unanswered`)
  if (options.verbose) {
    for (const [what, count] of tally.validUnanswered) console.log(`fuzz:   ${what} x${count}`)
  }
  console.log(`fuzz: ${tally.requests} requests, ${tally.connections} connections, seed ` +
    `${options.seed}, max RSS ${Math.round(tally.maxRssBytes / MIB)} MiB`)
  return code
}

// Exit explicitly: a handle the broker left half-open must not keep the fuzzer running.
process.exit(await main().catch(error => {
  console.error(`FUZZ FAILED: the fuzzer itself failed: ${(error as Error).stack ?? error}`)
  return 1
}))
