/**
 * Whole-broker crash recovery (issue #6). A real broker is driven by two idempotent acks=all
 * producers on their own topics (kafkajs, and the lean client's IdempotentProducer, which
 * retries a failed send with the same sequence) and by a consumer that commits its position to
 * a group. The broker is killed with SIGKILL at seeded random moments and restarted on the same
 * port and data directory. A cycle passes when, after its restart:
 * - the `.log` files left by the SIGKILL parse into whole batches with valid CRCs and
 *   contiguous offsets (a partial batch only at the very tail);
 * - the consumer's committed offsets fetched from the broker are at least the last commit the
 *   broker acknowledged, and resuming from them reads on without a gap;
 * - every partition, read in full, has valid CRCs and contiguous offsets, and holds every
 *   acknowledged message exactly once, in order, at the offset it was acknowledged with.
 * The last cycle also stops the clients and the broker (SIGTERM) and validates the segment
 * files on disk in strict mode: indexes and time indexes included. Restart-to-ready times are
 * printed per cycle with their median and maximum.
 * CRASH_SEED replays a run; CRASH_CYCLES sets the number of cycles (default 20).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { CrashTally, medianAndMax } from '../support/crash-tally.js'
import { problemsOf, validateDataDir } from '../support/segment-validator.js'
import { seededRandom } from '../support/seeded-random.js'
import {
  CommittingConsumer, checkStoredPartition, compareConsumed, startKafkajsDriver,
  startLeanDriver, type Driver,
} from './crash-drivers.js'

const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 20)
const PARTITIONS = 3
/**
 * Small segments, so that rolls, several index files and cross-segment reads all happen; set
 * through the broker's internal.segment.bytes (tests only), since segment.bytes has Kafka 4's
 * 1 MiB minimum (KIP-1030). Every start of the broker must set it.
 */
const BROKER_ENV = { TRIBUTARY_INTERNAL_SEGMENT_BYTES: String(128 * 1024) }
const RECOVERED =
  /recovered (\S+): (\d+) segment\(s\) scanned in ([\d.]+) ms, (\d+) bytes truncated/g

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** What the broker's start-up log says it recovered: logs, scan time, bytes cut. */
function recoveryOf (output: string): { logs: number, scanMs: number, truncatedBytes: number } {
  let logs = 0
  let scanMs = 0
  let truncatedBytes = 0
  for (const match of output.matchAll(RECOVERED)) {
    logs++
    scanMs += Number(match[3])
    truncatedBytes += Number(match[4])
  }
  return { logs, scanMs, truncatedBytes }
}

/** Full reads of every partition of every driver's topic, against what each acknowledged. */
async function checkStored (client: KafkaClient, drivers: Driver[]):
Promise<{ problems: string[], stored: Map<string, string[]> }> {
  const problems: string[] = []
  const stored = new Map<string, string[]>()
  for (const driver of drivers) {
    problems.push(...driver.problems.splice(0))
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const result = await checkStoredPartition(client, driver.topic, partition,
        driver.acked[partition] ?? { values: [], offsets: [] })
      problems.push(...result.problems)
      stored.set(`${driver.topic}-${partition}`, result.values)
    }
  }
  return { problems, stored }
}

function ackedCount (drivers: Driver[]): number {
  return drivers.reduce((sum, driver) =>
    sum + driver.acked.reduce((total, partition) => total + partition.values.length, 0), 0)
}

/**
 * The last cycle's extra checks: stop the clients, read everything once more, compare what the
 * consumer read with what is stored, stop the broker cleanly and validate its files strictly.
 */
async function finishRun (client: KafkaClient, drivers: Driver[], consumer: CommittingConsumer,
  broker: BrokerProcess): Promise<string[]> {
  for (const driver of drivers) await driver.stop()
  await consumer.stop()
  const problems = consumer.problems.splice(0)
  const final = await checkStored(client, drivers)
  problems.push(...final.problems)
  consumer.seen.forEach((seen, partition) => {
    problems.push(...compareConsumed('crash-lean', partition, seen,
      final.stored.get(`crash-lean-${partition}`) ?? []))
  })
  await client.close()
  const exitCode = await broker.stop()
  if (exitCode !== 0) problems.push(`the broker exited with ${exitCode} on SIGTERM`)
  problems.push(...problemsOf(await validateDataDir(broker.dataDir,
    { mode: 'strict', indexIntervalBytes: 4096 })))
  return problems
}

function runSummary (drivers: Driver[], leanRetries: number,
  consumer: CommittingConsumer | undefined, restartMs: number[]): string {
  const { median, max } = medianAndMax(restartMs)
  const [kafkajsDriver, leanDriver] = drivers as [Driver, Driver]
  return `${ackedCount(drivers)} acknowledged messages (kafkajs ` +
    `${ackedCount([kafkajsDriver])}, lean ${ackedCount([leanDriver])}), failed sends ` +
    `kafkajs ${kafkajsDriver.failedSends}, lean ${leanDriver.failedSends} (lean sends retried ` +
    `with their sequence: ${leanRetries}); consumer ${consumer?.commits} commits, ` +
    `${consumer?.resumes} resumes; restart-to-ready median ${median.toFixed(0)} ms, ` +
    `max ${max.toFixed(0)} ms`
}

describe(`broker crash recovery (CRASH_SEED=${SEED})`, () => {
  it(`keeps every acknowledged message exactly once across ${CYCLES} SIGKILLs`, async () => {
    const random = seededRandom(SEED)
    const tally = new CrashTally(`${CYCLES} SIGKILL cycles of the broker, CRASH_SEED=${SEED}`)
    let broker: BrokerProcess = await startBroker({ env: BROKER_ENV })
    const { dataDir, kafkaPort } = broker
    const client = new KafkaClient({ bootstrap: broker.bootstrap, requestTimeoutMs: 10_000 })
    const drivers: Driver[] = []
    let consumer: CommittingConsumer | undefined
    let leanRetries = (): number => 0
    const restartMs: number[] = []
    let stopped = false
    let cycle = 0
    try {
      for (const topic of ['crash-kafkajs', 'crash-lean']) {
        await client.createTopic(topic, { partitions: PARTITIONS })
      }
      drivers.push(await startKafkajsDriver(broker.bootstrap, 'crash-kafkajs', PARTITIONS, 20))
      const lean = await startLeanDriver(broker.bootstrap, 'crash-lean', PARTITIONS, 20)
      drivers.push(lean)
      leanRetries = lean.retriedSends
      consumer = new CommittingConsumer(broker.bootstrap, 'crash-group', 'crash-lean', PARTITIONS)
      consumer.start()
      for (cycle = 1; cycle <= CYCLES; cycle++) {
        const runMs = 50 + Math.floor(random() * 300)
        await sleep(runMs)
        await broker.kill()
        const problems = problemsOf(await validateDataDir(dataDir, { mode: 'afterCrash' }))
        const started = performance.now()
        broker = await startBroker({ dataDir, kafkaPort, env: BROKER_ENV })
        restartMs.push(performance.now() - started)
        const recovery = recoveryOf(broker.output())
        problems.push(...await consumer.resume(), ...consumer.problems.splice(0))
        problems.push(...(await checkStored(client, drivers)).problems)
        if (cycle === CYCLES) {
          problems.push(...await finishRun(client, drivers, consumer, broker))
          stopped = true
        }
        tally.record(`cycle ${cycle}`, problems)
        console.log(`cycle ${cycle}: killed after ${runMs} ms, restart-to-ready ` +
          `${restartMs.at(-1)?.toFixed(0)} ms (${recovery.logs} logs recovered in ` +
          `${recovery.scanMs.toFixed(1)} ms, ${recovery.truncatedBytes} bytes truncated), ` +
          `${ackedCount(drivers)} acknowledged, ` +
          (problems.length === 0 ? 'ok' : `FAILED: ${problems.slice(0, 3).join('; ')}`))
      }
    } catch (error) {
      // A broker that does not come back, or a check that throws, fails its cycle.
      tally.record(`cycle ${cycle}`, [`${String(error)}`])
      throw error
    } finally {
      for (const driver of drivers) await driver.stop(true).catch(() => undefined)
      await consumer?.stop().catch(() => undefined)
      await client.close()
      if (!stopped) await broker.stop()
      await removeDataDir(dataDir)
      if (drivers.length === 2) console.log(runSummary(drivers, leanRetries(), consumer, restartMs))
      tally.print()
    }
    assert.equal(tally.failed, 0, tally.failures.slice(0, 20).join('\n'))
    assert.ok(drivers.every(driver => ackedCount([driver]) > 0), 'both producers were acked')
  })
})
