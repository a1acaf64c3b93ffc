/**
 * PartitionLog and LogManager on real files: appends and reads across segment rolls, the
 * sparse index, timestamp lookups, truncateTo, deleteSegmentsBefore, reopening, idempotent
 * producers, the relaxed flush policy and the data-directory lock.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LogDirLockedError, LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-log-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const CONFIG = { segmentBytes: 64 * 1024, indexIntervalBytes: 4096 }

function batch (n: number, records = 10, timestamp = 1_000_000 + n): Buffer {
  return buildRecordBatchSync(Array.from({ length: records }, (_, i) => ({
    key: `k${n}-${i}`, value: Buffer.alloc(100, n % 256), timestamp,
  })), { timestampMs: timestamp })
}

async function append (log: PartitionLog, n: number, extra = {}): Promise<{ baseOffset: number,
  lastOffset: number, duplicate: boolean }> {
  const bytes = batch(n)
  return log.append(bytes, { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1_000_000 + n,
    ...extra })
}

async function readAll (log: PartitionLog): Promise<number[]> {
  const bases: number[] = []
  let offset = log.logStartOffset
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20)
    for (const { position } of splitBatches(records)) {
      bases.push(readInt64(records, position))
      offset = readInt64(records, position) + records.readInt32BE(position + 23) + 1
    }
  }
  return bases
}

describe('PartitionLog', () => {
  it('appends and reads across segment rolls, with a sparse index at batch starts', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    const results = await Promise.all(Array.from({ length: 300 }, (_, n) => append(log, n)))
    results.forEach((result, n) => assert.equal(result.baseOffset, n * 10))
    assert.equal(log.logEndOffset, 3000)
    assert.ok(log.segmentCount > 3, `${log.segmentCount} segments`)
    assert.deepEqual(await readAll(log), results.map(r => r.baseOffset))
    const middle = await log.read(1234, 1)
    assert.equal(readInt64(middle.records, 0), 1230, 'the batch holding the offset, whole')
    await manager.close()
    const directory = path.join(dataDir, 't-0')
    const files = await readdir(directory)
    const indexes = files.filter(name => name.endsWith('.index'))
    let entries = 0
    for (const index of indexes) entries += (await stat(path.join(directory, index))).size / 8
    assert.ok(entries > 0 && entries < 300 / 2, `${entries} index entries for 300 batches`)
    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    assert.deepEqual(await readAll(reopened.getLog('t', 0) as PartitionLog),
      results.map(r => r.baseOffset))
    await reopened.close()
  })

  it('finds offsets for timestamps', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    for (let n = 0; n < 100; n++) await append(log, n)
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 1_000_000 })
    assert.deepEqual(await log.offsetForTimestamp(1_000_050), { offset: 500, timestamp: 1_000_050 })
    assert.equal(await log.offsetForTimestamp(2_000_000), undefined)
    await manager.close()
  })

  it('truncates to an offset and deletes segments before an offset', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    for (let n = 0; n < 200; n++) await append(log, n)
    await log.truncateTo(1005)
    assert.equal(log.logEndOffset, 1000, 'the batch holding 1005 goes whole')
    assert.equal((await readAll(log)).at(-1), 990)
    assert.equal((await append(log, 999)).baseOffset, 1000)
    const segmentsBefore = log.segmentCount
    await log.deleteSegmentsBefore(700)
    assert.equal(log.logStartOffset, 700)
    assert.ok(log.segmentCount < segmentsBefore)
    await assert.rejects(log.read(100, 100), { kind: 'OFFSET_OUT_OF_RANGE' })
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    assert.equal(reopened.getLog('t', 0)?.logStartOffset, 700, 'log start survives restart')
    assert.equal(reopened.getLog('t', 0)?.logEndOffset, 1010)
    await reopened.close()
  })

  it('acknowledges a retried idempotent batch with its original offsets and stores it once',
    async () => {
      const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
      const log = await manager.getOrCreateLog('t', 0)
      const producer = { producerId: 42, producerEpoch: 0 }
      const first = await append(log, 0, { ...producer, baseSequence: 0 })
      const second = await append(log, 1, { ...producer, baseSequence: 10 })
      const retried = await append(log, 1, { ...producer, baseSequence: 10 })
      assert.equal(retried.duplicate, true)
      assert.equal(retried.baseOffset, second.baseOffset)
      assert.equal(log.logEndOffset, 20)
      await assert.rejects(append(log, 2, { ...producer, baseSequence: 30 }),
        { kind: 'OUT_OF_ORDER_SEQUENCE_NUMBER' })
      await append(log, 3, { producerId: 42, producerEpoch: 1, baseSequence: 0 })
      await assert.rejects(append(log, 4, { ...producer, baseSequence: 20 }),
        { kind: 'INVALID_PRODUCER_EPOCH' })
      await manager.close()
      // The state survives a restart (snapshot at clean shutdown).
      const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
      const again = await append(reopened.getLog('t', 0) as PartitionLog, 3,
        { producerId: 42, producerEpoch: 1, baseSequence: 0 })
      assert.equal(again.duplicate, true)
      assert.equal(first.baseOffset, 0)
      await reopened.close()
    })

  it('acknowledges before fsync in the relaxed mode and fsyncs on flush.messages', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1,
      defaultConfig: { ...CONFIG, fsyncBeforeAck: false, flushIntervalMessages: 50 } })
    const log = await manager.getOrCreateLog('t', 0)
    for (let n = 0; n < 4; n++) await append(log, n)
    assert.equal(log.writtenEndOffset, 40)
    assert.equal(log.durableEndOffset, 0, 'no fsync yet below flush.messages')
    for (let n = 4; n < 6; n++) await append(log, n)
    assert.equal(log.durableEndOffset, 50, 'fsynced once 50 records were unflushed')
    assert.equal(log.writtenEndOffset, 60)
    await manager.close()
  })
})

describe('LogManager', () => {
  it('refuses a second manager on the same directory with a clear message', async () => {
    const first = await LogManager.open({ dataDir, nodeId: 1 })
    await assert.rejects(LogManager.open({ dataDir, nodeId: 1 }), (error: unknown) => {
      assert.ok(error instanceof LogDirLockedError)
      assert.match(error.message, /another broker holds the lock/)
      return true
    })
    await first.close()
    const second = await LogManager.open({ dataDir, nodeId: 1 })
    await second.close()
  })

  it('refuses a data directory that belongs to another node id', async () => {
    const first = await LogManager.open({ dataDir, nodeId: 1 })
    await first.close()
    await assert.rejects(LogManager.open({ dataDir, nodeId: 2 }), /belongs to node 1/)
  })
})
