/**
 * Compaction on real files with a manual clock: the last value of every key survives with its
 * offset, batches keep base offsets and producer fields, the log stays contiguous and passes
 * the on-disk validator (compacted mode), tombstones go delete.retention.ms after the cleaning
 * that reached them, an idempotent retry after compaction is still a duplicate (also after a
 * restart), a read that began before a swap finishes on the old files, and a restart after a
 * crash at any step of the swap ends with the old segments or the new one.
 */
import assert from 'node:assert/strict'
import { copyFile, cp, mkdtemp, readdir, rename, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { nodeDisk, type Disk } from '../../src/io/disk.js'
import { iterateRecords } from '../../src/records/batch.js'
import {
  CompressionCodec, PRODUCER_ID_OFFSET, readBatchHeader, readInt64, writeBatchCrc,
} from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { filterBatch } from '../../src/storage/batch-filter.js'
import { dirtyRange, nextMarks, tombstoneHorizon } from '../../src/storage/compaction.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { ManualClock } from '../support/manual-clock.js'
import { seededRandom as seeded } from '../support/seeded-random.js'
import { validatePartitionDir } from '../support/segment-validator.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-compact-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const SEGMENT_BYTES = 2048
const COMPACT = {
  segmentBytes: SEGMENT_BYTES, cleanupPolicy: ['compact'] as const, minCleanableDirtyRatio: 0,
  deleteRetentionMs: 60_000, fileDeleteDelayMs: 1000,
}

interface Entry { offset: number, key: string, value: string | null }

async function put (log: PartitionLog, clock: ManualClock, entries: [string, string | null][],
  producer?: { producerId: number, producerEpoch: number, baseSequence: number }):
  Promise<number> {
  const batch = buildRecordBatchSync(entries.map(([key, value]) => ({ key, value,
    timestamp: clock.nowMs() })), { timestampMs: clock.nowMs(), ...producer })
  const result = await log.append(batch, { leaderEpoch: 0, recordsCount: entries.length,
    maxTimestamp: clock.nowMs(), ...producer })
  return result.baseOffset
}

/** Every record from the log start, in order. */
async function readAll (log: PartitionLog): Promise<Entry[]> {
  const entries: Entry[] = []
  let offset = log.logStartOffset
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20)
    if (records.length === 0) break
    for await (const record of iterateRecords(records, { fromOffset: offset })) {
      entries.push({ offset: record.offset, key: record.key?.toString() ?? '',
        value: record.value?.toString() ?? null })
    }
    let position = 0
    while (position < records.length) {
      offset = readInt64(records, position) + records.readInt32BE(position + 23) + 1
      position += records.readInt32BE(position + 8) + 12
    }
  }
  return entries
}

/** The last entry of every key (what compaction must keep), by key. */
function latest (entries: Entry[]): Map<string, Entry> {
  const result = new Map<string, Entry>()
  for (const entry of entries) result.set(entry.key, entry)
  return result
}

async function fill (log: PartitionLog, clock: ManualClock, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const entries: [string, string | null][] = []
    for (let key = 0; key < 5; key++) entries.push([`k${key}`, `v${round}-${key}`])
    await put(log, clock, entries)
    clock.advance(10)
  }
}

describe('filterBatch', () => {
  for (const compression of [CompressionCodec.None, CompressionCodec.Gzip]) {
    it(`keeps the header fields of a batch (compression ${compression})`, async () => {
      const batch = buildRecordBatchSync([{ key: 'a', value: '1' }, { key: 'b', value: null },
        { key: 'c', value: '3' }], { compression, producerId: 9, producerEpoch: 2,
        baseSequence: 40, baseOffset: 100, timestampMs: 5000 })
      const result = await filterBatch(batch, record => record.key?.toString() !== 'a')
      assert.equal(result.removed, 1)
      const before = readBatchHeader(batch)
      const after = readBatchHeader(result.batch)
      for (const field of ['baseOffset', 'lastOffsetDelta', 'baseTimestamp', 'maxTimestamp',
        'producerId', 'producerEpoch', 'baseSequence', 'attributes'] as const) {
        assert.equal(after[field], before[field], field)
      }
      assert.equal(after.recordsCount, 2)
      const records = []
      for await (const record of iterateRecords(result.batch)) records.push(record)
      assert.deepEqual(records.map(r => [r.offset, r.key?.toString(), r.value?.toString()]),
        [[101, 'b', undefined], [102, 'c', '3']])
      const empty = await filterBatch(batch, () => false)
      assert.equal(readBatchHeader(empty.batch).recordsCount, 0)
      assert.equal(readBatchHeader(empty.batch).lastOffsetDelta, 2)
      assert.equal(readInt64(empty.batch, PRODUCER_ID_OFFSET), 9)
    })
  }
})

describe('tombstone marks', () => {
  it('expire delete.retention.ms after the cleaning that reached them, with few marks', () => {
    let marks = nextMarks([], 100, 1000, 0)
    assert.equal(tombstoneHorizon(marks, 1000, 999), -1)
    assert.equal(tombstoneHorizon(marks, 1000, 1000), 100)
    for (let t = 10; t < 5000; t += 10) marks = nextMarks(marks, 100 + t, 1000, t)
    assert.ok(marks.length <= 10, `${marks.length} marks`)
    const horizon = tombstoneHorizon(marks, 1000, 5000)
    assert.ok(horizon >= 100 + 3875 && horizon <= 100 + 4000, `horizon ${horizon}`)
  })
})

describe('compaction', () => {
  it('keeps the last value of every key with its offset, and the log valid', async () => {
    const clock = new ManualClock()
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
    const log = await manager.getOrCreateLog('t', 0)
    await fill(log, clock, 60)
    const before = await readAll(log)
    const segmentsBefore = log.segmentCount
    const endBefore = log.logEndOffset
    const sizeBefore = log.sizeBytes
    const cleaned = await manager.cleaner.cleanOnce()
    assert.ok(cleaned !== undefined, 'the log was cleaned')
    assert.ok(cleaned.result.recordsRemoved > 0)
    assert.equal(log.logEndOffset, endBefore)
    assert.ok(log.segmentCount <= segmentsBefore, `${log.segmentCount} ≤ ${segmentsBefore}`)
    assert.ok(log.sizeBytes < sizeBefore / 2, `${log.sizeBytes} of ${sizeBefore} bytes left`)
    const after = await readAll(log)
    for (let i = 1; i < after.length; i++) {
      assert.ok((after[i] as Entry).offset > (after[i - 1] as Entry).offset, 'offsets increase')
    }
    assert.deepEqual(latest(after), latest(before), 'every key keeps its last value and offset')
    assert.equal(manager.cleaner.stateOf('t-0').firstDirtyOffset, cleaned.result.cleanedTo)
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
    const again = reopened.getLog('t', 0) as PartitionLog
    assert.deepEqual(await readAll(again), after, 'the same after a restart')
    assert.equal(reopened.cleaner.stateOf('t-0').firstDirtyOffset, cleaned.result.cleanedTo,
      'cleaner-offset-checkpoint')
    await reopened.close()
    const validation = await validatePartitionDir(path.join(dataDir, 't-0'),
      { mode: 'strict', compacted: true })
    assert.deepEqual(validation.problems, [])
  })

  it('ignores a first dirty offset past the log end (a partition created again)', async () => {
    const clock = new ManualClock()
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
    const log = await manager.getOrCreateLog('t', 0)
    await fill(log, clock, 30)
    const range = dirtyRange(log, { firstDirtyOffset: 1_000_000, marks: [] }, clock.nowMs())
    assert.equal(range.firstDirtyOffset, 0)
    assert.ok(range.dirtyBytes > 0)
    await manager.close()
  })

  it('keeps a COMMIT marker through a cleaning that has not reached it delete.retention.ms ago',
    async () => {
      const clock = new ManualClock()
      const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
      const log = await manager.getOrCreateLog('t', 0)
      await fill(log, clock, 5)
      // A COMMIT marker: control record key (version 0, type 1), as a coordinator writes it.
      const marker = buildRecordBatchSync([{ key: Buffer.from([0, 0, 0, 1]),
        value: Buffer.from([0, 0, 0, 0, 0, 0]) }], { producerId: 77, producerEpoch: 0,
        transactional: true, timestampMs: clock.nowMs() })
      marker.writeInt16BE(marker.readInt16BE(21) | 0x20, 21)
      writeBatchCrc(marker, 0, marker.length)
      const markerOffset = (await log.append(marker, { leaderEpoch: 0, recordsCount: 1,
        maxTimestamp: clock.nowMs(), producerId: 77, producerEpoch: 0 })).baseOffset
      await fill(log, clock, 40)
      assert.ok(await manager.cleaner.cleanOnce() !== undefined)
      const { records } = await log.read(markerOffset, 1 << 20)
      const header = readBatchHeader(records)
      assert.equal(header.baseOffset, markerOffset, 'the marker is still there')
      assert.equal(header.attributes & 0x20, 0x20)
      assert.equal(header.recordsCount, 1)
      await manager.close()
    })

  it('leaves a log with the delete policy alone, and one younger than min.compaction.lag.ms',
    async () => {
      const clock = new ManualClock()
      const manager = await LogManager.open({ dataDir, nodeId: 1, clock,
        defaultConfig: { ...COMPACT, cleanupPolicy: ['delete'] } })
      const log = await manager.getOrCreateLog('t', 0)
      await fill(log, clock, 20)
      assert.equal(await manager.cleaner.cleanOnce(), undefined)
      log.updateConfig({ cleanupPolicy: ['compact'], minCompactionLagMs: 60_000 })
      assert.equal(await manager.cleaner.cleanOnce(), undefined, 'too young')
      clock.advance(60_000)
      assert.ok(await manager.cleaner.cleanOnce() !== undefined, 'old enough')
      await manager.close()
    })

  it('removes a tombstone delete.retention.ms after the cleaning that reached it', async () => {
    const clock = new ManualClock()
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
    const log = await manager.getOrCreateLog('t', 0)
    await fill(log, clock, 5)
    await put(log, clock, [['k0', null]])
    await fill(log, clock, 10)
    const tombstoneOf = (entries: Entry[]): Entry | undefined =>
      entries.find(entry => entry.key === 'k0' && entry.value === null)
    assert.ok(tombstoneOf(await readAll(log)) !== undefined)
    // The fills overwrite k0 again; delete it for good after them.
    await put(log, clock, [['k0', null]])
    await fill(log, clock, 0)
    for (let i = 0; i < 12; i++) await put(log, clock, [[`other${i}`, 'x'.repeat(100)]])
    assert.ok(await manager.cleaner.cleanOnce() !== undefined)
    const afterFirst = await readAll(log)
    assert.ok(tombstoneOf(afterFirst) !== undefined, 'kept by the cleaning that reached it')
    assert.ok(!afterFirst.some(entry => entry.key === 'k0' && entry.value !== null),
      'the values before the tombstone are gone')
    clock.advance(60_000)
    for (let i = 0; i < 12; i++) await put(log, clock, [[`more${i}`, 'y'.repeat(100)]])
    assert.ok(await manager.cleaner.cleanOnce() !== undefined)
    assert.equal(tombstoneOf(await readAll(log)), undefined, 'gone after delete.retention.ms')
    await manager.close()
  })

  it('answers an idempotent retry after compaction as a duplicate, also after a restart',
    async () => {
      const clock = new ManualClock()
      const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
      const log = await manager.getOrCreateLog('t', 0)
      const producer = (sequence: number): { producerId: number, producerEpoch: number,
        baseSequence: number } => ({ producerId: 42, producerEpoch: 0, baseSequence: sequence })
      let sequence = 0
      let lastBase = -1
      for (let round = 0; round < 30; round++) {
        lastBase = await put(log, clock, [['k', `v${round}`], ['j', `w${round}`]],
          producer(sequence))
        sequence += 2
      }
      for (let i = 0; i < 5; i++) await put(log, clock, [[`x${i}`, 'z'.repeat(300)]])
      assert.ok(await manager.cleaner.cleanOnce() !== undefined)
      // Emptied batches of the producer stay only while idempotence needs them (its last 5).
      let producerBatches = 0
      for (let offset = 0; offset < log.logEndOffset;) {
        const { records } = await log.read(offset, 1 << 20)
        for (let at = 0; at < records.length; at += records.readInt32BE(at + 8) + 12) {
          if (readInt64(records, at + PRODUCER_ID_OFFSET) === 42) producerBatches++
          offset = readInt64(records, at) + records.readInt32BE(at + 23) + 1
        }
      }
      assert.ok(producerBatches < 30, `${producerBatches} of 30 producer batches left`)
      const retry = buildRecordBatchSync([{ key: 'k', value: 'v29', timestamp: clock.nowMs() },
        { key: 'j', value: 'w29', timestamp: clock.nowMs() }],
      { timestampMs: clock.nowMs(), ...producer(sequence - 2) })
      const options = { leaderEpoch: 0, recordsCount: 2, maxTimestamp: clock.nowMs(),
        ...producer(sequence - 2) }
      const duplicate = await log.append(Buffer.from(retry), options)
      assert.equal(duplicate.duplicate, true)
      assert.equal(duplicate.baseOffset, lastBase)
      await manager.close()
      const reopened = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
      const again = reopened.getLog('t', 0) as PartitionLog
      const afterRestart = await again.append(Buffer.from(retry), options)
      assert.equal(afterRestart.duplicate, true)
      assert.equal(afterRestart.baseOffset, lastBase)
      await reopened.close()
    })

  it('reads on past a segment left with only an emptied batch (regression: kafkajs stalled)',
    async () => {
      const clock = new ManualClock()
      const manager = await LogManager.open({ dataDir, nodeId: 1, clock,
        defaultConfig: { ...COMPACT, segmentBytes: 600 } })
      const log = await manager.getOrCreateLog('t', 0)
      for (let i = 0; i < 12; i++) await put(log, clock, [['same', `v${i}`.padEnd(200, '.')]])
      await put(log, clock, [['other', 'last']])
      assert.ok(await manager.cleaner.cleanOnce() !== undefined)
      const { records } = await log.read(0, 1 << 20)
      const read = []
      for await (const record of iterateRecords(records)) read.push(record.value?.toString())
      assert.ok(read.length > 0, 'the first read carries records, not only emptied batches')
      await manager.close()
    })

  it('marks a log whose cleaning fails uncleanable, logs it, and keeps serving it', async () => {
    const clock = new ManualClock()
    const warnings: string[] = []
    const failing: Disk = {
      ...nodeDisk,
      open: async (file, mode) => {
        if (file.endsWith('.cleaned')) {
          throw Object.assign(new Error('EIO: disk says no'), { code: 'EIO' })
        }
        return nodeDisk.open(file, mode)
      },
    }
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT,
      disk: failing, logger: { info: () => undefined, warn: message => warnings.push(message) } })
    const log = await manager.getOrCreateLog('t', 0)
    await fill(log, clock, 40)
    const before = await readAll(log)
    assert.equal(await manager.cleaner.cleanOnce(), undefined)
    assert.ok(manager.cleaner.isUncleanable('t-0'))
    assert.equal(manager.cleanerStats.errors, 1)
    assert.equal(manager.cleanerStats.uncleanable, 1)
    assert.ok(warnings.some(line => /cleaning t-0 failed; it is marked uncleanable/.test(line)))
    assert.deepEqual(await readAll(log), before, 'the log is untouched and still read')
    await put(log, clock, [['k0', 'after']])
    assert.equal(await manager.cleaner.cleanOnce(), undefined, 'not tried again')
    await manager.close()
  })

  it('shows a reader from the start a sequence that one compaction could produce', async () => {
    const clock = new ManualClock()
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
    const log = await manager.getOrCreateLog('t', 0)
    const written = new Map<number, Entry>()
    const random = seeded(7)
    const append = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const key = `k${Math.floor(random() * 8)}`
        const value = random() < 0.1 ? null : `v${written.size}`
        const base = await put(log, clock, [[key, value]])
        written.set(base, { offset: base, key, value })
        clock.advance(5)
      }
    }
    await append(150)
    const seen: Entry[] = []
    let offset = 0
    let cleanings = 0
    while (offset < log.logEndOffset) {
      // One small read at a time, with a cleaning (and more writes) between reads.
      const { records } = await log.read(offset, 1)
      for await (const record of iterateRecords(records, { fromOffset: offset })) {
        seen.push({ offset: record.offset, key: record.key?.toString() ?? '',
          value: record.value?.toString() ?? null })
      }
      offset = readInt64(records, 0) + records.readInt32BE(23) + 1
      if (seen.length % 10 === 0) {
        await append(20)
        if (await manager.cleaner.cleanOnce() !== undefined) cleanings++
      }
    }
    assert.ok(cleanings >= 3, `${cleanings} cleanings during the read`)
    for (let i = 1; i < seen.length; i++) {
      assert.ok((seen[i] as Entry).offset > (seen[i - 1] as Entry).offset, 'offsets increase')
    }
    for (const entry of seen) {
      assert.deepEqual(entry, written.get(entry.offset), 'every record read was written so')
    }
    // Compaction never removes the last record of a key: the reader sees each one.
    const seenOffsets = new Set(seen.map(entry => entry.offset))
    for (const last of latest([...written.values()]).values()) {
      assert.ok(seenOffsets.has(last.offset), `the last record of ${last.key} was seen`)
    }
    await manager.close()
  })

  it('ends with the old segments or the new one after a crash at each step of the swap',
    async () => {
      const clock = new ManualClock()
      const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT })
      const log = await manager.getOrCreateLog('t', 0)
      await fill(log, clock, 30)
      const before = await readAll(log)
      await manager.close()
      const old = await mkdtemp(path.join(os.tmpdir(), 'tributary-compact-old-'))
      const work = await mkdtemp(path.join(os.tmpdir(), 'tributary-compact-work-'))
      try {
        await cp(dataDir, old, { recursive: true })
        const cleanedManager = await LogManager.open({ dataDir, nodeId: 1, clock,
          defaultConfig: COMPACT })
        const cleaning = await cleanedManager.cleaner.cleanOnce()
        assert.ok(cleaning !== undefined && cleaning.result.segmentsAfter === 1,
          'one group: the crash states below are of one swap')
        const after = await readAll(cleanedManager.getLog('t', 0) as PartitionLog)
        await cleanedManager.close()
        const cleanedLog = path.join(dataDir, 't-0', '00000000000000000000.log')
        const oldPartition = path.join(old, 't-0')
        const replaced = (await readdir(oldPartition)).filter(name => name.endsWith('.log'))
          .sort().slice(0, cleaning.result.segmentsBefore)
        // Each step of the swap, as a kill would leave it.
        const steps: [string, (partition: string) => Promise<void>, Entry[]][] = [
          ['.cleaned written', async partition => {
            await copyFile(cleanedLog, path.join(partition, '00000000000000000000.log.cleaned'))
          }, before],
          ['renamed to .swap', async partition => {
            await copyFile(cleanedLog, path.join(partition, '00000000000000000000.log.swap'))
          }, after],
          ['half the old segments renamed .deleted', async partition => {
            await copyFile(cleanedLog, path.join(partition, '00000000000000000000.log.swap'))
            for (const name of replaced.slice(0, Math.ceil(replaced.length / 2))) {
              await rename(path.join(partition, name), path.join(partition, `${name}.deleted`))
            }
          }, after],
          ['all old segments renamed .deleted', async partition => {
            await copyFile(cleanedLog, path.join(partition, '00000000000000000000.log.swap'))
            for (const name of replaced) {
              await rename(path.join(partition, name), path.join(partition, `${name}.deleted`))
            }
          }, after],
        ]
        for (const [step, crash, expected] of steps) {
          await rm(work, { recursive: true, force: true })
          await cp(old, work, { recursive: true })
          await rm(path.join(work, '.kafka_cleanshutdown'), { force: true })
          await crash(path.join(work, 't-0'))
          const recovered = await LogManager.open({ dataDir: work, nodeId: 1, clock,
            defaultConfig: COMPACT })
          const entries = await readAll(recovered.getLog('t', 0) as PartitionLog)
          await recovered.close()
          assert.deepEqual(entries, expected, `after a crash with ${step}`)
          const names = await readdir(path.join(work, 't-0'))
          assert.deepEqual(names.filter(name => /\.(cleaned|swap|deleted)$/.test(name)), [], step)
          const validation = await validatePartitionDir(path.join(work, 't-0'),
            { mode: 'strict', compacted: true })
          assert.deepEqual(validation.problems, [], step)
        }
      } finally {
        await rm(old, { recursive: true, force: true })
        await rm(work, { recursive: true, force: true })
      }
    })
})
