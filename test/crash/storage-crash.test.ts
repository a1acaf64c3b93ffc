/**
 * Storage crash test (issue #2): a child appends and prints each offset once durable; the
 * parent SIGKILLs it at seeded random moments, reopens the log and checks that every
 * acknowledged batch is present, byte-identical and in order. Plus a file cut mid-batch,
 * garbage at the tail, deleted and corrupt indexes, and idempotent-producer state across
 * SIGKILLs. After every reopen and clean close the partition's segment files are validated on
 * disk (test/support/segment-validator.ts: CRCs, contiguous offsets, index and time index
 * entries). Prints `N passed, M failed` over the SIGKILL cycles and the fault cases.
 * Set CRASH_SEED to replay a run, CRASH_CYCLES for more cycles.
 */
import assert from 'node:assert/strict'
import {
  appendFile, mkdtemp, readFile, readdir, rm, stat, truncate, unlink, writeFile,
} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import {
  CRASH_PRODUCER_ID, batchForId, storedBatchForId, type ProducerFields,
} from './storage-batches.js'
import { CrashTally } from '../support/crash-tally.js'
import { validatePartitionDir } from '../support/segment-validator.js'
import { seededRandom } from '../support/seeded-random.js'
import { runWriterUntilKilled } from './killed-writer.js'

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'storage-writer.js')
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 20)

const tally = new CrashTally(`storage crash: ${CYCLES} SIGKILL cycles and 4 fault cases, ` +
  `CRASH_SEED=${SEED}`)
after(() => tally.print())

interface Ack { offset: number, sequence: number }
type Acks = Map<string, Ack>

function producerOf (ack: Ack): ProducerFields | undefined {
  if (ack.sequence < 0) return undefined
  return { producerId: CRASH_PRODUCER_ID, producerEpoch: 0, baseSequence: ack.sequence }
}

async function runAndKill (dataDir: string, cycle: number, killAfterMs: number,
  mode = 'plain'): Promise<Acks> {
  const acked: Acks = new Map()
  await runWriterUntilKilled(WRITER, [dataDir, String(cycle), mode], killAfterMs, line => {
    const match = /^ACK (\S+) (\d+) (-?\d+)$/.exec(line)
    if (match !== null) {
      acked.set(match[1] as string, { offset: Number(match[2]), sequence: Number(match[3]) })
    }
  })
  return acked
}

/** Reads the whole partition and checks every acknowledged batch byte for byte. */
async function verify (dataDir: string, acked: Acks,
  warnings: string[] = []): Promise<number> {
  const logger = { info: () => undefined, warn: (message: string) => warnings.push(message) }
  const manager = await LogManager.open({ dataDir, nodeId: 1, logger })
  try {
    const log = manager.getLog('crash', 0)
    assert.ok(log !== undefined)
    const byOffset = new Map<number, Buffer>()
    let offset = log.logStartOffset
    while (offset < log.logEndOffset) {
      const { records } = await log.read(offset, 1024 * 1024)
      assert.ok(records.length > 0, `read at ${offset} returned nothing`)
      for (const { position, size } of splitBatches(records)) {
        const base = readInt64(records, position)
        assert.equal(base, offset, 'offsets are contiguous and in order')
        byOffset.set(base, records.subarray(position, position + size))
        offset = base + records.readInt32BE(position + 23) + 1
      }
    }
    for (const [id, ack] of acked) {
      const stored = byOffset.get(ack.offset)
      assert.ok(stored !== undefined, `acknowledged batch ${id} at ${ack.offset} is missing`)
      assert.ok(stored.equals(storedBatchForId(id, ack.offset, producerOf(ack))),
        `acknowledged batch ${id} at ${ack.offset} differs`)
    }
    return log.logEndOffset
  } finally {
    await manager.close()
    const validation = await validatePartitionDir(path.join(dataDir, 'crash-0'),
      { mode: 'strict', indexIntervalBytes: 4096 })
    assert.deepEqual(validation.problems, [], 'the segment files validate on disk')
  }
}

async function withDataDir (test: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-crash-'))
  try {
    await test(dataDir)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** The segment files of the crash partition, oldest first. */
async function segmentFiles (dataDir: string, suffix: string): Promise<string[]> {
  const directory = path.join(dataDir, 'crash-0')
  return (await readdir(directory)).filter(name => name.endsWith(suffix)).sort()
    .map(name => path.join(directory, name))
}

/** Acks of batches wholly before the last `cutBytes` of `file` (the part cut off). */
async function ackedBefore (file: string, acked: Acks, cutBytes: number): Promise<Acks> {
  const segment = await readFile(file)
  const keptBytes = segment.length - cutBytes
  let keptEnd = Number(path.basename(file).slice(0, 20))
  for (const { position, size } of splitBatches(segment)) {
    if (position + size > keptBytes) break
    keptEnd = readInt64(segment, position) + segment.readInt32BE(position + 23) + 1
  }
  return new Map([...acked].filter(([, ack]) => ack.offset < keptEnd))
}

async function lastNonEmptySegment (dataDir: string): Promise<string> {
  const files = await segmentFiles(dataDir, '.log')
  for (const file of files.reverse()) if ((await stat(file)).size > 100) return file
  assert.fail('no segment holds batches')
}

/**
 * A SIGKILLed writer, one recovery and clean shutdown, then the clean-shutdown marker removed:
 * the log is settled (no torn tail of its own) but the next start is unclean, so damage done
 * now is exactly what recovery must find.
 */
async function crashedThenSettled (dataDir: string): Promise<{ acked: Acks, end: number }> {
  const acked = await runAndKill(dataDir, 0, 100)
  const end = await verify(dataDir, acked)
  await unlink(path.join(dataDir, '.kafka_cleanshutdown'))
  return { acked, end }
}

describe(`storage crash recovery (CRASH_SEED=${SEED})`, () => {
  it(`keeps every acknowledged batch across ${CYCLES} SIGKILLs`, async () => {
    const random = seededRandom(SEED)
    await withDataDir(async dataDir => {
      const acked: Acks = new Map()
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const killAfterMs = Math.floor(random() * 150)
        await tally.run(`cycle ${cycle + 1}`, async () => {
          for (const [id, ack] of await runAndKill(dataDir, cycle, killAfterMs)) {
            acked.set(id, ack)
          }
          await verify(dataDir, acked)
        })
      }
      assert.ok(acked.size > CYCLES, `only ${acked.size} batches were acknowledged`)
    })
  })

  it('truncates a segment cut in the middle of a batch', () => tally.run('torn tail', async () => {
    await withDataDir(async dataDir => {
      const { acked, end: endBefore } = await crashedThenSettled(dataDir)
      const active = await lastNonEmptySegment(dataDir)
      const size = (await stat(active)).size
      const owed = await ackedBefore(active, acked, 30)
      await truncate(active, size - 30)
      const end = await verify(dataDir, owed)
      assert.ok(end < endBefore, 'the cut batch is gone')
      assert.equal(await verify(dataDir, owed), end, 'a second start finds the same log')
    })
  }))

  it('truncates garbage appended after the last batch', () =>
    tally.run('garbage tail', async () => {
      await withDataDir(async dataDir => {
        const { acked } = await crashedThenSettled(dataDir)
        const active = await lastNonEmptySegment(dataDir)
        const size = (await stat(active)).size
        const garbage = Buffer.from('this is not a record batch at all')
        await appendFile(active, garbage)
        const warnings: string[] = []
        await verify(dataDir, acked, warnings)
        assert.equal((await stat(active)).size, size, 'recovery cut exactly the garbage')
        assert.match(warnings.join('\n'), new RegExp('recovered crash-0: [0-9]+ segment\\(s\\) ' +
          `scanned in [0-9.]+ ms, ${garbage.length} bytes truncated`), 'recovery is logged')
      })
    }))

  it('rebuilds deleted and corrupt indexes after a clean shutdown', () =>
    tally.run('broken indexes', async () => {
      const random = seededRandom(SEED + 1)
      await withDataDir(async dataDir => {
        // Writers run until the log has rolled (a loaded machine writes little in 150 ms).
        const acked: Acks = new Map()
        const rolled = async (): Promise<boolean> =>
          (await segmentFiles(dataDir, '.log').catch(() => [])).length >= 3
        for (let cycle = 0; cycle < 20 && !(await rolled()); cycle++) {
          for (const [id, ack] of await runAndKill(dataDir, cycle, 150)) acked.set(id, ack)
        }
        await verify(dataDir, acked) // recovers, then shuts down cleanly with fresh indexes
        const indexes = await segmentFiles(dataDir, '.index')
        assert.ok(indexes.length > 1, 'several segments')
        await unlink(indexes[0] as string)
        const garbage = Buffer.alloc(8 * 64)
        for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256)
        await writeFile(indexes[1] as string, garbage)
        const times = await segmentFiles(dataDir, '.timeindex')
        await writeFile(times.at(-1) as string, Buffer.alloc(12 * 3, 0xff))
        await verify(dataDir, acked)
        await verify(dataDir, acked)
      })
    }))

  it('acknowledges a retried idempotent batch once, with its original offset, after SIGKILLs',
    () => tally.run('idempotent retries', async () => {
      const random = seededRandom(SEED + 2)
      await withDataDir(async dataDir => {
        const acked: Acks = new Map()
        for (let cycle = 0; cycle < 5; cycle++) {
          const cycleAcks = await runAndKill(dataDir, cycle, 30 + Math.floor(random() * 100),
            'idempotent')
          for (const [id, ack] of cycleAcks) acked.set(id, ack)
          const last = [...cycleAcks].at(-1)
          assert.ok(last !== undefined, 'the writer acknowledged something')
          await retryAndExpectDuplicate(dataDir, last[0], last[1])
          await verify(dataDir, acked)
        }
      })
    }))
})

/** Reopens the log (an unclean start) and retries `id`: a duplicate with its first offset. */
async function retryAndExpectDuplicate (dataDir: string, id: string, ack: Ack): Promise<void> {
  const manager = await LogManager.open({ dataDir, nodeId: 1 })
  try {
    const log = manager.getLog('crash', 0) as PartitionLog
    const producer = producerOf(ack) as ProducerFields
    const batch = batchForId(id, producer)
    const endBefore = log.logEndOffset
    const result = await log.append(batch.bytes, { leaderEpoch: 0, recordsCount: batch.records,
      maxTimestamp: batch.maxTimestamp, ...producer })
    assert.equal(result.duplicate, true, `retry of ${id} is a duplicate`)
    assert.equal(result.baseOffset, ack.offset, `retry of ${id} gets its original offset`)
    assert.equal(log.logEndOffset, endBefore, 'nothing was written')
  } finally {
    await manager.close()
  }
}
