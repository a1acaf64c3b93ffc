/**
 * Broker-level disk faults beyond SIGKILL (issue #6), each on a real broker process: damage the
 * files of a stopped broker, restart it, and check that it comes up, that its log end is at
 * the last whole batch, that every whole batch before it reads back as acknowledged (also
 * through index lookups at random offsets), that producing continues, and that after a clean
 * stop the segment files validate on disk (test/support/segment-validator.ts). The validator
 * must also see the damage before the restart, so it is known to catch what it checks.
 * Cases: a torn write at the tail after a SIGKILL, corrupted indexes after a clean stop, deleted
 * indexes after a clean stop. CRASH_SEED replays the cut positions and garbage bytes.
 */
import assert from 'node:assert/strict'
import { readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { splitBatches } from '../../src/records/batch.js'
import { readBatchHeader } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { CrashTally } from '../support/crash-tally.js'
import { validatePartitionDir } from '../support/segment-validator.js'
import { seededRandom } from '../support/seeded-random.js'

const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const TOPIC = 'faults'
const BATCHES = 60
const RECORDS_PER_BATCH = 20
/**
 * About 6 segments of 12 batches, each segment with a few index entries; small segments through
 * the broker's internal.segment.bytes (tests only), since segment.bytes has Kafka 4's 1 MiB
 * minimum (KIP-1030). Every start of the broker must set it.
 */
const BROKER_ENV = { TRIBUTARY_INTERNAL_SEGMENT_BYTES: String(16 * 1024) }
const INDEX_INTERVAL_BYTES = 4096

const tally = new CrashTally(`broker-level fault cases, CRASH_SEED=${SEED}`)
after(() => tally.print())

interface Acked {
  /** Value by offset, for every acknowledged record. */
  values: string[]
}

/** A broker with the fault topic holding BATCHES acknowledged batches of numbered values. */
async function brokerWithData (): Promise<{ broker: BrokerProcess, acked: Acked }> {
  const broker = await startBroker({ env: BROKER_ENV })
  const client = new KafkaClient({ bootstrap: broker.bootstrap })
  try {
    await client.createTopic(TOPIC, { partitions: 1 })
    const values: string[] = []
    for (let batch = 0; batch < BATCHES; batch++) {
      const records = Array.from({ length: RECORDS_PER_BATCH }, (_, i) =>
        ({ value: `value-${batch * RECORDS_PER_BATCH + i}`.padEnd(40, '.') }))
      const { baseOffset } = await client.produce(TOPIC, 0, buildRecordBatchSync(records))
      records.forEach((record, i) => { values[baseOffset + i] = record.value })
    }
    return { broker, acked: { values } }
  } finally {
    await client.close()
  }
}

function partitionDir (broker: BrokerProcess): string {
  return path.join(broker.dataDir, `${TOPIC}-0`)
}

async function segmentFiles (directory: string, suffix: string): Promise<string[]> {
  return (await readdir(directory)).filter(name => name.endsWith(suffix)).sort()
    .map(name => path.join(directory, name))
}

/**
 * Restarts the broker on its data directory and checks it: the log ends at `expectedEnd`, the
 * records below it are the acknowledged ones, fetches at random offsets (index lookups) find
 * the batch holding them, a new batch lands at the end; then a clean stop and a strict
 * validation of the partition's files.
 */
async function restartAndCheck (stopped: BrokerProcess, acked: Acked, expectedEnd: number,
  random: () => number): Promise<void> {
  const broker = await startBroker({ dataDir: stopped.dataDir, kafkaPort: stopped.kafkaPort,
    env: BROKER_ENV })
  const client = new KafkaClient({ bootstrap: broker.bootstrap })
  try {
    assert.equal((await client.listOffsets(TOPIC, 0, -1)).offset, expectedEnd,
      'the log ends after the last whole batch')
    const read: string[] = []
    for await (const record of readPartition(client, TOPIC, 0, 0)) {
      read[record.offset] = record.value?.toString() ?? ''
    }
    assert.deepEqual(read, acked.values.slice(0, expectedEnd), 'whole batches read back')
    for (let lookup = 0; lookup < 20; lookup++) {
      const offset = Math.floor(random() * expectedEnd)
      const fetched = await client.fetch(TOPIC, 0, offset, { maxBytes: 1 })
      const records = fetched.records ?? Buffer.alloc(0)
      const first = splitBatches(records)[0]
      assert.ok(first !== undefined, `a fetch at ${offset} returns a batch`)
      const header = readBatchHeader(records, first.position)
      assert.ok(header.baseOffset <= offset &&
        offset <= header.baseOffset + header.lastOffsetDelta,
        `a fetch at ${offset} starts with the batch holding it, not ${header.baseOffset}`)
    }
    const { baseOffset } = await client.produce(TOPIC, 0,
      buildRecordBatchSync([{ value: 'after the fault' }]))
    assert.equal(baseOffset, expectedEnd, 'producing continues at the log end')
    const last: string[] = []
    for await (const record of readPartition(client, TOPIC, 0, expectedEnd)) {
      last.push(record.value?.toString() ?? '')
    }
    assert.deepEqual(last, ['after the fault'])
  } finally {
    await client.close()
    assert.equal(await broker.stop(), 0, 'a clean stop')
  }
  const validation = await validatePartitionDir(partitionDir(broker),
    { mode: 'strict', indexIntervalBytes: INDEX_INTERVAL_BYTES })
  assert.deepEqual(validation.problems, [], 'the segment files validate after the restart')
  assert.equal(validation.logEndOffset, expectedEnd + 1)
}

/** Problems the strict validator finds now: the damage must be visible to it. */
async function damageSeen (broker: BrokerProcess): Promise<string[]> {
  return (await validatePartitionDir(partitionDir(broker),
    { mode: 'strict', indexIntervalBytes: INDEX_INTERVAL_BYTES })).problems
}

function garbage (bytes: number, random: () => number): Buffer {
  const buffer = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i++) buffer[i] = Math.floor(random() * 256)
  return buffer
}

describe(`broker-level disk faults (CRASH_SEED=${SEED})`, () => {
  it('cuts a torn write at the tail of the active segment back to the last whole batch', () =>
    tally.run('torn tail', async () => {
      const random = seededRandom(SEED)
      const { broker, acked } = await brokerWithData()
      try {
        await broker.kill()
        const logs = await segmentFiles(partitionDir(broker), '.log')
        let active = logs.at(-1) as string
        if ((await stat(active)).size === 0) active = logs.at(-2) as string
        const bytes = await readFile(active)
        const last = splitBatches(bytes).at(-1)
        assert.ok(last !== undefined, 'the active segment holds batches')
        const cut = last.position + 1 + Math.floor(random() * (last.size - 2))
        await truncate(active, cut)
        assert.match((await damageSeen(broker)).join('\n'), /bytes after the last whole batch/)
        const expectedEnd = readBatchHeader(bytes, last.position).baseOffset
        console.log(`torn tail: ${path.basename(active)} cut at byte ${cut} inside the batch ` +
          `at ${last.position} (${last.size} bytes); expected log end ${expectedEnd}`)
        await restartAndCheck(broker, acked, expectedEnd, random)
      } finally {
        await broker.kill()
        await removeDataDir(broker.dataDir)
      }
    }))

  it('rebuilds corrupted indexes and time indexes after a clean stop', () =>
    tally.run('corrupted index', async () => {
      const random = seededRandom(SEED + 1)
      const { broker, acked } = await brokerWithData()
      try {
        assert.equal(await broker.stop(), 0)
        const indexes = await segmentFiles(partitionDir(broker), '.index')
        const times = await segmentFiles(partitionDir(broker), '.timeindex')
        assert.ok(indexes.length >= 4, `several segments (${indexes.length})`)
        // Random bytes; then a plausible index (increasing, inside the file) pointing mid-batch;
        // then entries that point at the wrong batch starts; then a garbage time index.
        const [first, second, third] = indexes as [string, string, string]
        await writeFile(first, garbage((await stat(first)).size, random))
        const shifted = await readFile(second)
        for (let at = 0; at < shifted.length; at += 8) {
          shifted.writeInt32BE(shifted.readInt32BE(at + 4) + 13, at + 4)
        }
        await writeFile(second, shifted)
        const swapped = await readFile(third)
        for (let at = 0; at < swapped.length; at += 8) {
          swapped.writeInt32BE(swapped.readInt32BE(at) + 1, at)
        }
        await writeFile(third, swapped)
        const time = times[3] as string
        await writeFile(time, garbage((await stat(time)).size, random))
        const seen = (await damageSeen(broker)).join('\n')
        for (const file of [first, second, third, time]) {
          assert.ok(seen.includes(path.basename(file)), `the validator sees ${file}`)
        }
        await restartAndCheck(broker, acked, acked.values.length, random)
      } finally {
        await broker.kill()
        await removeDataDir(broker.dataDir)
      }
    }))

  it('rebuilds deleted indexes and time indexes after a clean stop', () =>
    tally.run('deleted index', async () => {
      const random = seededRandom(SEED + 2)
      const { broker, acked } = await brokerWithData()
      try {
        assert.equal(await broker.stop(), 0)
        const indexes = await segmentFiles(partitionDir(broker), '.index')
        const times = await segmentFiles(partitionDir(broker), '.timeindex')
        const doomed = [indexes[0], indexes[2], indexes.at(-1), times[1], times.at(-1)]
        for (const file of new Set(doomed)) await unlink(file as string)
        assert.match((await damageSeen(broker)).join('\n'), /is missing/)
        await restartAndCheck(broker, acked, acked.values.length, random)
      } finally {
        await broker.kill()
        await removeDataDir(broker.dataDir)
      }
    }))
})
