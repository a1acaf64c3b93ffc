/**
 * Retention with a manual clock: retention.ms (by a segment's largest timestamp), retention.bytes
 * and the log start offset delete whole old segments at each log.retention.check.interval.ms;
 * segment.ms rolls an idle active segment; files go to `.deleted` first and are removed after
 * file.delete.delay.ms and after the last read holding them; the log start offset is
 * checkpointed and reads below it fail with OFFSET_OUT_OF_RANGE at once; cleanup.policy and
 * retention changes take effect without a restart; a restart finishes leftover deletions.
 */
import assert from 'node:assert/strict'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { nodeDisk, type Disk, type DiskFile } from '../../src/io/disk.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { StorageError } from '../../src/storage/errors.js'
import { LogManager, type LogManagerOptions } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { planRetention, type RetainedSegment } from '../../src/storage/retention.js'
import { ManualClock } from '../support/manual-clock.js'
import { validatePartitionDir } from '../support/segment-validator.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-retain-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const CHECK_MS = 1000
const DELAY_MS = 5000
/** Four records of 100 bytes: one batch is ~560 bytes, so segment.bytes 1200 holds two. */
const SEGMENT_BYTES = 1200

function batch (timestamp: number): Buffer {
  return buildRecordBatchSync(Array.from({ length: 4 }, (_, i) => ({
    value: Buffer.alloc(100, i), timestamp,
  })), { timestampMs: timestamp })
}

async function append (log: PartitionLog, timestamp: number): Promise<number> {
  const result = await log.append(batch(timestamp), { leaderEpoch: 0, recordsCount: 4,
    maxTimestamp: timestamp })
  return result.baseOffset
}

/** Yields to real I/O until `done`, for at most 5 s. */
async function until (done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 5000
  while (!(await done()) && performance.now() < deadline) {
    await new Promise<void>(resolve => setTimeout(resolve, 2))
  }
}

async function open (clock: ManualClock, config: LogManagerOptions['defaultConfig'] = {},
  extra: Partial<LogManagerOptions> = {}): Promise<LogManager> {
  return LogManager.open({
    dataDir, nodeId: 1, clock, retentionCheckIntervalMs: CHECK_MS,
    defaultConfig: { segmentBytes: SEGMENT_BYTES, fileDeleteDelayMs: DELAY_MS, ...config },
    ...extra,
  })
}

async function files (suffix: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, 't-0'))).filter(name => name.endsWith(suffix)).sort()
}

async function checkpointedStart (): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'log-start-offset-checkpoint'), 'utf8')
    .catch(() => '')
  const line = text.split('\n').find(entry => entry.startsWith('t 0 '))
  return line === undefined ? undefined : Number(line.split(' ')[2])
}

/** Runs the retention check the timer would run, and waits for it to settle. */
async function check (clock: ManualClock, manager: LogManager): Promise<void> {
  clock.advance(CHECK_MS)
  await manager.enforceRetention()
}

function segment (baseOffset: number, nextOffset: number, size: number,
  maxTimestamp: number): RetainedSegment {
  return { baseOffset, nextOffset, size, maxTimestamp, createdMs: 0 }
}

describe('planRetention', () => {
  const segments = [
    segment(0, 10, 100, 1000), segment(10, 20, 100, 2000), segment(20, 30, 100, 3000),
    segment(30, 35, 50, 4000),
  ]
  const state = { nowMs: 10_000, logStartOffset: 0, highWatermark: 35, logEndOffset: 35 }
  const limits = { retentionMs: -1, retentionBytes: -1, deleteEnabled: true }

  it('deletes by largest timestamp older than retention.ms, a prefix only', () => {
    const plan = planRetention(segments, { ...limits, retentionMs: 7500 }, state)
    assert.equal(plan.count, 2)
    assert.equal(plan.reason, 'retention.ms')
    assert.deepEqual(plan.eligibleSinceMs, [8500, 9500])
    const outOfOrder = [segment(0, 10, 100, 9999), ...segments.slice(1)]
    assert.equal(planRetention(outOfOrder, { ...limits, retentionMs: 7500 }, state).count, 0,
      'a young first segment keeps the older ones after it')
  })

  it('deletes the oldest segments while the rest still hold retention.bytes', () => {
    assert.equal(planRetention(segments, { ...limits, retentionBytes: 150 }, state).count, 2)
    assert.equal(planRetention(segments, { ...limits, retentionBytes: 151 }, state).count, 1)
    assert.equal(planRetention(segments, { ...limits, retentionBytes: 350 }, state).count, 0)
  })

  it('deletes segments wholly below the log start offset, whatever the policy', () => {
    const plan = planRetention(segments, { ...limits, deleteEnabled: false },
      { ...state, logStartOffset: 25 })
    assert.equal(plan.count, 2)
    assert.equal(plan.reason, 'log start offset')
  })

  it('keeps segments above the high watermark and an empty active segment', () => {
    assert.equal(planRetention(segments, { ...limits, retentionMs: 0 },
      { ...state, highWatermark: 15 }).count, 1)
    assert.equal(planRetention(segments, { ...limits, retentionMs: 0 }, state).count, 4,
      'every segment, the active one too (the caller rolls first)')
    const emptyActive = [...segments.slice(0, 3), segment(30, 30, 0, -1)]
    assert.equal(planRetention(emptyActive, { ...limits, retentionMs: 0 },
      { ...state, highWatermark: 30, logEndOffset: 30 }).count, 3)
  })

  it('does nothing by time or size without the delete policy', () => {
    assert.equal(planRetention(segments, { retentionMs: 0, retentionBytes: 0,
      deleteEnabled: false }, state).count, 0)
  })
})

describe('retention on a log', () => {
  it('deletes segments older than retention.ms at the check interval, via .deleted', async () => {
    const clock = new ManualClock()
    const start = clock.nowMs()
    const manager = await open(clock, { retentionMs: 60_000 })
    const log = await manager.getOrCreateLog('t', 0)
    for (let i = 0; i < 6; i++) await append(log, start + i * 10_000)
    assert.deepEqual(log.segmentBaseOffsets, [0, 8, 16])
    // Segment 0 holds timestamps up to +10 s, segment 8 up to +30 s.
    clock.advance(70_000 - CHECK_MS)
    await check(clock, manager)
    assert.deepEqual(log.segmentBaseOffsets, [0, 8, 16], 'exactly retention.ms old: kept')
    clock.advance(5000 - CHECK_MS)
    await check(clock, manager)
    assert.deepEqual(log.segmentBaseOffsets, [8, 16], 'the first segment aged out')
    assert.equal(log.logStartOffset, 8)
    await until(async () => await checkpointedStart() === 8)
    assert.equal(await checkpointedStart(), 8, 'the new log start offset is checkpointed')
    assert.deepEqual(await files('.deleted'), ['00000000000000000000.index.deleted',
      '00000000000000000000.log.deleted', '00000000000000000000.timeindex.deleted'])
    await assert.rejects(log.read(0, 1 << 20), (error: unknown) =>
      error instanceof StorageError && error.kind === 'OFFSET_OUT_OF_RANGE')
    const first = (await log.read(8, 1 << 20)).records
    assert.equal(readInt64(first, 0), 8, 'reads from the new start work')
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 8, timestamp: start + 20_000,
      leaderEpoch: 0 })
    clock.advance(DELAY_MS)
    await until(async () => (await files('.deleted')).length === 0)
    assert.deepEqual(await files('.deleted'), [], 'removed after file.delete.delay.ms')
    await manager.close()
    const validation = await validatePartitionDir(path.join(dataDir, 't-0'), { mode: 'strict' })
    assert.deepEqual(validation.problems, [])
  })

  it('rolls an idle active segment after segment.ms so that it can age out', async () => {
    const clock = new ManualClock()
    const start = clock.nowMs()
    const manager = await open(clock, { retentionMs: 60_000, segmentMs: 30_000,
      segmentBytes: 1 << 20 })
    const log = await manager.getOrCreateLog('t', 0)
    await append(log, start)
    await append(log, start)
    await check(clock, manager)
    assert.deepEqual(log.segmentBaseOffsets, [0], 'young: no roll')
    clock.advance(30_000)
    await check(clock, manager)
    assert.deepEqual(log.segmentBaseOffsets, [0, 8], 'segment.ms rolled the idle segment')
    clock.advance(30_000)
    await check(clock, manager)
    assert.deepEqual(log.segmentBaseOffsets, [8], 'then it aged out')
    assert.equal(log.logStartOffset, 8)
    assert.equal(log.logEndOffset, 8)
    assert.equal(await append(log, clock.nowMs()), 8, 'appends go on at the log end')
    await manager.close()
  })

  it('deletes every segment, rolling a new active one, when all are past retention.ms',
    async () => {
      const clock = new ManualClock()
      const manager = await open(clock, { retentionMs: 1000 })
      const log = await manager.getOrCreateLog('t', 0)
      for (let i = 0; i < 3; i++) await append(log, clock.nowMs())
      assert.deepEqual(log.segmentBaseOffsets, [0, 8])
      await check(clock, manager)
      clock.advance(1)
      await manager.enforceRetention()
      assert.deepEqual(log.segmentBaseOffsets, [12])
      assert.equal(log.logStartOffset, 12)
      await manager.close()
    })

  it('keeps at most retention.bytes, oldest segments first', async () => {
    const clock = new ManualClock()
    const manager = await open(clock, { retentionBytes: 2 * SEGMENT_BYTES })
    const log = await manager.getOrCreateLog('t', 0)
    for (let i = 0; i < 9; i++) await append(log, clock.nowMs())
    assert.deepEqual(log.segmentBaseOffsets, [0, 8, 16, 24, 32])
    const before = log.sizeBytes
    const outcomes = await manager.enforceRetention()
    assert.equal(outcomes.get('t-0')?.reason, 'retention.bytes')
    assert.deepEqual(log.segmentBaseOffsets, [16, 24, 32])
    // Kafka's rule: delete while what stays still holds retention.bytes.
    const batchBytes = batch(0).length
    assert.ok(log.sizeBytes >= 2 * SEGMENT_BYTES, `${log.sizeBytes} bytes kept`)
    assert.ok(log.sizeBytes - 2 * batchBytes < 2 * SEGMENT_BYTES, 'one segment more would be')
    assert.equal(outcomes.get('t-0')?.deletedBytes, before - log.sizeBytes)
    await manager.close()
  })

  it('applies retention and cleanup.policy changes without a restart', async () => {
    const clock = new ManualClock()
    const manager = await open(clock, { retentionMs: 1000, cleanupPolicy: ['compact'] })
    const log = await manager.getOrCreateLog('t', 0)
    for (let i = 0; i < 5; i++) await append(log, clock.nowMs())
    clock.advance(10_000)
    await manager.enforceRetention()
    assert.deepEqual(log.segmentBaseOffsets, [0, 8, 16], 'compact only: time does not delete')
    log.updateConfig({ cleanupPolicy: ['compact', 'delete'], retentionMs: -1 })
    await manager.enforceRetention()
    assert.deepEqual(log.segmentBaseOffsets, [0, 8, 16], 'retention.ms -1 keeps everything')
    log.updateConfig({ retentionMs: 1000 })
    await manager.enforceRetention()
    assert.deepEqual(log.segmentBaseOffsets, [20])
    await manager.close()
  })

  it('lets a read in flight finish with its bytes while its segment is deleted', async () => {
    const gate = readGate()
    const clock = new ManualClock()
    const manager = await open(clock, { retentionMs: 1000 }, { disk: gate.disk })
    const log = await manager.getOrCreateLog('t', 0)
    for (let i = 0; i < 5; i++) await append(log, clock.nowMs())
    gate.close()
    const reading = log.read(0, 1 << 20)
    await until(() => gate.waiting > 0)
    clock.advance(10_000)
    await manager.enforceRetention()
    assert.equal(log.logStartOffset, 20)
    clock.advance(DELAY_MS + 1)
    await new Promise(resolve => setTimeout(resolve, 50))
    // The read holds every segment from the one it started in (it may move on to the next).
    assert.deepEqual(await files('.log.deleted'), ['00000000000000000000.log.deleted',
      '00000000000000000008.log.deleted', '00000000000000000016.log.deleted'],
    'the files stay while a read holds the segments')
    assert.equal((await files('.log')).length, 1,
      'the files stay while a read holds the segment')
    gate.open()
    const { records } = await reading
    assert.equal(readInt64(records, 0), 0, 'the read got the batches it asked for')
    assert.equal(records.readInt8(16), 2)
    await until(async () => (await files('.deleted')).length === 0)
    assert.deepEqual(await files('.deleted'), [], 'removed once the read finished')
    await manager.close()
  })

  it('finishes leftover deletions and drops orphaned indexes at the next start', async () => {
    const clock = new ManualClock()
    const manager = await open(clock, { retentionBytes: batch(0).length })
    const log = await manager.getOrCreateLog('t', 0)
    for (let i = 0; i < 5; i++) await append(log, clock.nowMs())
    await manager.enforceRetention()
    assert.deepEqual(log.segmentBaseOffsets, [16])
    await until(async () => await checkpointedStart() === 16)
    // A copy taken now is what a SIGKILL leaves: renamed files still waiting for their delay.
    const crashed = await mkdtemp(path.join(os.tmpdir(), 'tributary-retain-crash-'))
    try {
      await cp(dataDir, crashed, { recursive: true })
      await manager.close()
      const partition = path.join(crashed, 't-0')
      assert.ok((await readdir(partition)).some(name => name.endsWith('.deleted')))
      // A crash between the renames of one segment: its indexes outlive its log.
      await writeFile(path.join(partition, '00000000000000000003.index'), Buffer.alloc(8))
      await writeFile(path.join(partition, '00000000000000000003.timeindex'), Buffer.alloc(12))
      await rm(path.join(crashed, '.kafka_cleanshutdown'), { force: true })
      const reopened = await LogManager.open({ dataDir: crashed, nodeId: 1, clock })
      const again = reopened.getLog('t', 0) as PartitionLog
      assert.equal(again.logStartOffset, 16)
      assert.deepEqual(again.segmentBaseOffsets, [16])
      const names = await readdir(partition)
      assert.deepEqual(names.filter(name => /deleted|^00000000000000000003/.test(name)), [])
      await reopened.close()
      const validation = await validatePartitionDir(partition, { mode: 'strict' })
      assert.deepEqual(validation.problems, [])
    } finally {
      await rm(crashed, { recursive: true, force: true })
    }
  })

  it('runs the check by itself every log.retention.check.interval.ms', async () => {
    const clock = new ManualClock()
    const manager = await open(clock, { retentionMs: 5000 })
    const log = await manager.getOrCreateLog('t', 0)
    for (let i = 0; i < 3; i++) await append(log, clock.nowMs())
    clock.advance(5001)
    await until(() => log.logStartOffset === 12)
    assert.equal(log.logStartOffset, 12)
    await manager.close()
  })
})

/** A disk whose segment reads wait while the gate is closed. */
function readGate (): { disk: Disk, close (): void, open (): void, waiting: number } {
  let release: Promise<void> | undefined
  let opened: () => void = () => undefined
  const state = {
    waiting: 0,
    close () { release = new Promise(resolve => { opened = resolve }) },
    open () { release = undefined; opened() },
    disk: {
      ...nodeDisk,
      async open (file: string, mode: Parameters<Disk['open']>[1]): Promise<DiskFile> {
        const handle = await nodeDisk.open(file, mode)
        if (mode !== 'segment') return handle
        return {
          read: async (...args: Parameters<DiskFile['read']>) => {
            if (release !== undefined) {
              state.waiting++
              await release
            }
            return handle.read(...args)
          },
          writev: (buffers, position) => handle.writev(buffers, position),
          writeFile: data => handle.writeFile(data),
          readFile: () => handle.readFile(),
          stat: () => handle.stat(),
          truncate: length => handle.truncate(length),
          datasync: () => handle.datasync(),
          sync: () => handle.sync(),
          close: () => handle.close(),
        }
      },
    } satisfies Disk,
  }
  return state
}
