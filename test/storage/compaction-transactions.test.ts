/**
 * Compaction of transactional data (issue #17, Kafka's CleanedTransactionMetadata), on real
 * files with a manual clock: the records of an aborted transaction are removed (and never
 * supersede a committed value of the same key), committed records are compacted like any
 * other, a COMMIT marker goes only once no record of its transaction is left and a cleaning
 * reached it delete.retention.ms ago, ABORT markers stay, and the cleaner never passes the last
 * stable offset (an open transaction's records and everything after them stay as written).
 * A read_committed and a read_uncommitted reader see the same committed values across the
 * cleaning, and the directory passes the strict on-disk validator.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { withoutAbortedBatches } from '../../src/records/aborted-transactions.js'
import { isControlBatch, readBatchHeader } from '../../src/records/batch-header.js'
import { decodeRecordBatch, iterateRecords, splitBatches } from '../../src/records/batch.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import {
  buildControlBatch, CONTROL_TYPE_COMMIT, controlTypeOf,
} from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { ManualClock } from '../support/manual-clock.js'
import { validatePartitionDir } from '../support/segment-validator.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-txclean-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const COMPACT = {
  segmentBytes: 2048, cleanupPolicy: ['compact'] as const, minCleanableDirtyRatio: 0,
  deleteRetentionMs: 60_000, fileDeleteDelayMs: 1000,
}

const sequences = new Map<number, number>()

async function put (log: PartitionLog, clock: ManualClock, entries: [string, string][],
  producerId?: number): Promise<number> {
  const transactional = producerId !== undefined
  const producer = transactional
    ? { producerId, producerEpoch: 0, baseSequence: sequences.get(producerId) ?? 0 }
    : {}
  if (transactional) sequences.set(producerId, (sequences.get(producerId) ?? 0) + entries.length)
  const batch = buildRecordBatchSync(entries.map(([key, value]) => ({ key, value,
    timestamp: clock.nowMs() })), { timestampMs: clock.nowMs(), transactional, ...producer })
  const result = await log.append(batch, { leaderEpoch: 0, recordsCount: entries.length,
    maxTimestamp: clock.nowMs(), ...producer, isTransactional: transactional })
  return result.baseOffset
}

async function marker (log: PartitionLog, clock: ManualClock, producerId: number,
  commit: boolean): Promise<number> {
  const batch = buildControlBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 1,
    timestampMs: clock.nowMs() })
  const result = await log.append(batch, { leaderEpoch: 0, recordsCount: 1,
    maxTimestamp: clock.nowMs(), producerId, producerEpoch: 0, baseSequence: -1,
    isTransactional: true, abortMarker: !commit })
  return result.baseOffset
}

async function fill (log: PartitionLog, clock: ManualClock, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await put(log, clock, [0, 1, 2, 3, 4].map(key => [`k${key}`, `v${round}-${key}`]))
    clock.advance(10)
  }
}

/** The raw batches of the log below `end` (read_uncommitted: nothing dropped). */
async function rawBatches (log: PartitionLog, end = log.logEndOffset): Promise<Buffer[]> {
  const batches: Buffer[] = []
  let offset = log.logStartOffset
  while (offset < end) {
    const { records } = await log.read(offset, 1 << 20, { maxOffset: end })
    if (records.length === 0) break
    for (const { position, size } of splitBatches(records)) {
      const batch = records.subarray(position, position + size)
      batches.push(batch)
      const header = readBatchHeader(batch)
      offset = header.baseOffset + header.lastOffsetDelta + 1
    }
  }
  return batches
}

interface Entry { offset: number, key: string, value: string }

/** What a reader at `isolation` sees below `end`: records only, in offset order. */
async function readerView (log: PartitionLog, readCommitted: boolean,
  end = log.lastStableOffset): Promise<Entry[]> {
  const raw = Buffer.concat(await rawBatches(log, end))
  const aborted = readCommitted ? await log.abortedTransactions(log.logStartOffset, end) : []
  const entries: Entry[] = []
  for await (const record of iterateRecords(withoutAbortedBatches(raw, aborted).records)) {
    entries.push({ offset: record.offset, key: record.key?.toString() ?? '',
      value: record.value?.toString() ?? '' })
  }
  return entries
}

function latest (entries: Entry[]): Map<string, string> {
  return new Map(entries.map(entry => [entry.key, entry.value]))
}

/** The markers left: `<producerId>:<COMMIT|ABORT>@offset`. */
async function markers (log: PartitionLog): Promise<string[]> {
  const found: string[] = []
  for (const batch of await rawBatches(log)) {
    const header = readBatchHeader(batch)
    if (!isControlBatch(header.attributes)) continue
    const { records } = await decodeRecordBatch(batch)
    const type = controlTypeOf(records[0]?.key ?? null) === CONTROL_TYPE_COMMIT ? 'COMMIT' : 'ABORT'
    found.push(`${header.producerId}:${type}@${header.baseOffset}`)
  }
  return found
}

describe('compaction of transactional data', () => {
  it('removes aborted records, keeps committed ones, stops at the LSO, and removes a COMMIT ' +
    'marker only once its data is gone and delete.retention.ms has passed', async () => {
    const clock = new ManualClock()
    const warnings: string[] = []
    // The background loop off: it would race this test's own cleanOnce calls when the
    // manual clock jumps past log.cleaner.backoff.ms.
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT,
      cleaner: { enable: false },
      logger: { info: () => undefined, warn: message => { warnings.push(message) } } })
    const log = await manager.getOrCreateLog('t', 0)
    await fill(log, clock, 5)
    await put(log, clock, [['k9', 'committed-before']])
    await put(log, clock, [['k0', 'c7']], 7) // superseded later by the fills
    const commit7 = await marker(log, clock, 7, true)
    // Five more of producer 7, so that idempotence no longer needs the first one's batch
    // (emptied batches a producer still needs stay, and so do their markers).
    for (let i = 0; i < 5; i++) {
      await put(log, clock, [['k1', `c7-${i}`]], 7)
      await marker(log, clock, 7, true)
    }
    await put(log, clock, [['solo', 'c10']], 10) // never superseded
    const commit10 = await marker(log, clock, 10, true)
    await put(log, clock, [['k9', 'a8'], ['ghost', 'a8']], 8)
    const abort8 = await marker(log, clock, 8, false)
    await fill(log, clock, 20)
    const openAt = await put(log, clock, [['k0', 'open']], 9)
    await fill(log, clock, 20)
    assert.equal(log.lastStableOffset, openAt, 'the open transaction holds the LSO')

    const uncommittedBefore = await readerView(log, false)
    const committedBefore = await readerView(log, true)
    assert.ok(uncommittedBefore.some(entry => entry.value === 'a8'), 'aborted data is there')
    assert.ok(!committedBefore.some(entry => entry.value === 'a8'))
    const pastLso = await rawBatches(log).then(batches => batches.filter(batch =>
      readBatchHeader(batch).baseOffset >= openAt).map(batch => batch.toString('hex')))

    const first = await manager.cleaner.cleanOnce()
    assert.ok(first !== undefined && first.result.recordsRemoved > 0, 'cleaned')
    assert.ok(first.result.cleanedTo <= openAt, 'the cleaner stopped at the LSO')
    const afterPast = (await rawBatches(log)).filter(batch =>
      readBatchHeader(batch).baseOffset >= openAt).map(batch => batch.toString('hex'))
    assert.deepEqual(afterPast, pastLso, 'nothing at or after the LSO was touched')

    const uncommitted = await readerView(log, false)
    const committed = await readerView(log, true)
    assert.ok(!uncommitted.some(entry => entry.value === 'a8'), 'aborted records removed')
    assert.equal(latest(committed).get('k9'), 'committed-before',
      'an aborted value never superseded the committed one')
    assert.equal(latest(committed).get('solo'), 'c10', 'committed records kept')
    assert.ok(!committed.some(entry => entry.value === 'c7'), 'superseded committed record gone')
    assert.deepEqual(latest(committed), latest(committedBefore),
      'a read_committed reader sees the same values across the cleaning')
    assert.deepEqual(latest(uncommitted), latest(committed),
      'a read_uncommitted reader now sees only committed values below the LSO')
    const firstMarkers = await markers(log)
    for (const kept of [`7:COMMIT@${commit7}`, `10:COMMIT@${commit10}`, `8:ABORT@${abort8}`]) {
      assert.ok(firstMarkers.includes(kept),
        `${kept} stays until a cleaning reached it delete.retention.ms ago`)
    }
    assert.equal(firstMarkers.length, 8, 'no marker went in the first cleaning')

    // End the open transaction, let delete.retention.ms pass, clean again.
    await marker(log, clock, 9, true)
    clock.advance(60_000)
    await fill(log, clock, 20)
    const second = await manager.cleaner.cleanOnce()
    assert.ok(second !== undefined, warnings.join('\n'))
    const left = await markers(log)
    assert.ok(!left.includes(`7:COMMIT@${commit7}`), 'a COMMIT marker with no data left goes')
    assert.ok(left.includes(`10:COMMIT@${commit10}`), 'a COMMIT marker whose data stays stays')
    assert.ok(left.includes(`8:ABORT@${abort8}`), 'ABORT markers stay')
    assert.equal(latest(await readerView(log, true)).get('solo'), 'c10')
    assert.equal(latest(await readerView(log, true)).get('k9'), 'committed-before')

    const endBefore = log.logEndOffset
    const view = await readerView(log, true)
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT,
      cleaner: { enable: false } })
    const again = reopened.getLog('t', 0) as PartitionLog
    assert.equal(again.logEndOffset, endBefore)
    assert.equal(again.lastStableOffset, endBefore, 'no transaction is open after a restart')
    assert.deepEqual(await readerView(again, true), view, 'the same after a restart')
    await reopened.close()
    const validation = await validatePartitionDir(path.join(dataDir, 't-0'),
      { mode: 'strict', compacted: true })
    assert.deepEqual(validation.problems, [])
  })
})
