/**
 * Time-driven storage behaviour with a manual clock (no sleeps): flush.ms in the relaxed mode,
 * segment.ms rolls, and timestamp lookups over out-of-order timestamps across a restart.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import type { TimestampAndOffset } from '../../src/storage/log-reader.js'
import { ManualClock } from '../support/manual-clock.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-time-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

/** A clock that moves only when told; `advance` fires the timers that came due. */
function batch (timestamp: number): Buffer {
  return buildRecordBatchSync(Array.from({ length: 4 }, (_, i) => ({
    value: `value ${i}`, timestamp: timestamp + i,
  })), { timestampMs: timestamp })
}

async function append (log: PartitionLog, timestamp: number): Promise<number> {
  const result = await log.append(batch(timestamp), { leaderEpoch: 0, recordsCount: 4,
    maxTimestamp: timestamp + 3 })
  return result.baseOffset
}

/** Yields to real I/O (the fsync is real) until `done`, for at most 5 s. */
async function until (done: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000
  while (!done() && performance.now() < deadline) {
    await new Promise<void>(resolve => setImmediate(resolve))
  }
}

describe('time-driven storage', () => {
  it('fsyncs a relaxed log once flush.ms has passed', async () => {
    const clock = new ManualClock()
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock,
      defaultConfig: { fsyncBeforeAck: false, flushIntervalMs: 100 } })
    const log = await manager.getOrCreateLog('t', 0)
    await append(log, 1000)
    await append(log, 2000)
    assert.equal(log.writtenEndOffset, 8, 'acknowledged once written')
    assert.equal(log.durableEndOffset, 0, 'no fsync before flush.ms')
    clock.advance(150)
    await until(() => log.durableEndOffset === 8)
    assert.equal(log.durableEndOffset, 8, 'the periodic round fsynced it')
    await manager.close()
  })

  it('rolls a segment older than segment.ms', async () => {
    const clock = new ManualClock()
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock,
      defaultConfig: { segmentMs: 60_000 } })
    const log = await manager.getOrCreateLog('t', 0)
    await append(log, 1000)
    await append(log, 2000)
    assert.equal(log.segmentCount, 1)
    clock.advance(60_001)
    await append(log, 3000)
    assert.deepEqual(log.segmentBaseOffsets, [0, 8])
    await manager.close()
  })

  it('finds offsets for timestamps that go back and forth, also after a restart', async () => {
    const config = { indexIntervalBytes: 1, segmentBytes: 400 }
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: config })
    const log = await manager.getOrCreateLog('t', 0)
    // Per batch of 4 records: base timestamps out of order, as CreateTime allows.
    const bases = [100, 5000, 200, 300, 9000, 400, 500, 600, 7000, 700, 800, 900]
    for (const timestamp of bases) await append(log, timestamp)
    assert.ok(log.segmentCount > 2, `${log.segmentCount} segments`)
    const expectations: [number, TimestampAndOffset | undefined][] = [
      [0, { offset: 0, timestamp: 100, leaderEpoch: 0 }],
      [102, { offset: 2, timestamp: 102, leaderEpoch: 0 }],
      [1000, { offset: 4, timestamp: 5000, leaderEpoch: 0 }],
      [5004, { offset: 16, timestamp: 9000, leaderEpoch: 0 }],
      [6000, { offset: 16, timestamp: 9000, leaderEpoch: 0 }],
      [9003, { offset: 19, timestamp: 9003, leaderEpoch: 0 }],
      [9004, undefined],
    ]
    const check = async (partitionLog: PartitionLog): Promise<void> => {
      for (const [timestamp, expected] of expectations) {
        assert.deepEqual(await partitionLog.offsetForTimestamp(timestamp), expected,
          `first offset with a timestamp ≥ ${timestamp}`)
      }
    }
    await check(log)
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: config })
    await check(reopened.getLog('t', 0) as PartitionLog)
    await (reopened.getLog('t', 0) as PartitionLog).deleteSegmentsBefore(20)
    assert.deepEqual(await reopened.getLog('t', 0)?.offsetForTimestamp(0),
      { offset: 20, timestamp: 400, leaderEpoch: 0 }, 'nothing below the log start offset')
    await reopened.close()
  })
})
