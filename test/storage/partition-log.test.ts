/**
 * PartitionLog and LogManager on real files: appends and reads across segment rolls, the
 * sparse index, timestamp lookups, truncateTo, deleteSegmentsBefore, reopening, idempotent
 * producers, the relaxed flush policy and the data-directory lock.
 */
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64, stampBatch } from '../../src/records/batch-header.js'
import { nodeDisk, type Disk, type DiskFile } from '../../src/io/disk.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { AppendResult, PartitionLog } from '../../src/storage/partition-log.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-log-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const CONFIG = { segmentBytes: 64 * 1024, indexIntervalBytes: 4096 }

interface ProducerFields { producerId?: number, producerEpoch?: number, baseSequence?: number }

/** Batch `n`: 10 records; producer fields go in the header too, as a real producer's do. */
function batch (n: number, producer: ProducerFields = {}): Buffer {
  const timestamp = 1_000_000 + n
  return buildRecordBatchSync(Array.from({ length: 10 }, (_, i) => ({
    key: `k${n}-${i}`, value: Buffer.alloc(100, n % 256), timestamp,
  })), { timestampMs: timestamp, ...producer })
}

async function append (log: PartitionLog, n: number, extra: ProducerFields = {}):
Promise<AppendResult> {
  return log.append(batch(n, extra), { leaderEpoch: 0, recordsCount: 10,
    maxTimestamp: 1_000_000 + n, ...extra })
}

function stamped (bytes: Buffer, baseOffset: number): Buffer {
  stampBatch(bytes, 0, baseOffset, 0)
  return bytes
}

/** The real disk, except that the next `failWrites` writevs and `failSyncs` datasyncs fail. */
function faultyDisk (): { disk: Disk, failWrites: number, failSyncs: number } {
  const faults = { disk: nodeDisk, failWrites: 0, failSyncs: 0 }
  const fail = (code: string): Promise<never> =>
    Promise.reject(Object.assign(new Error(`injected ${code}`), { code }))
  const wrap = (handle: DiskFile): DiskFile => ({
    read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
    writev: (buffers, position) => faults.failWrites-- > 0
      ? fail('ENOSPC')
      : handle.writev(buffers, position),
    writeFile: data => handle.writeFile(data),
    readFile: () => handle.readFile(),
    stat: () => handle.stat(),
    truncate: length => handle.truncate(length),
    datasync: () => faults.failSyncs-- > 0 ? fail('EIO') : handle.datasync(),
    sync: () => handle.sync(),
    close: () => handle.close(),
  })
  faults.disk = { ...nodeDisk, open: async (file, mode) => wrap(await nodeDisk.open(file, mode)) }
  return faults
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

  it('answers nothing, never a later segment, when the batch at the offset is over the budget',
    async () => {
      // A fetch's later partitions read with minOneBatch off and what is left of max_bytes.
      // A batch that does not fit ends the answer there: returning the next segment's batches
      // would move a consumer's position (or a follower's log) past the rest of this segment.
      const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
      const log = await manager.getOrCreateLog('t', 0)
      const big = buildRecordBatchSync([{ value: Buffer.alloc(16 * 1024, 7) }])
      let n = 0
      // Small batches until the big one is the last that fits the first segment.
      while (log.sizeBytes + big.length + batch(n).length <= CONFIG.segmentBytes) {
        await append(log, n++)
      }
      const bigOffset = (await log.append(big, { leaderEpoch: 0, recordsCount: 1,
        maxTimestamp: 0 })).baseOffset
      while (log.segmentCount < 2) await append(log, n++)
      assert.equal(log.segmentBaseOffsets[1], bigOffset + 1, 'the big batch ends segment 1')
      const small = batch(n).length
      assert.ok(small < big.length)
      const { records } = await log.read(bigOffset, small + 100, { minOneBatch: false })
      assert.equal(records.length, 0, `${records.length} B: the answer skipped the big batch`)
      const first = await log.read(bigOffset, small + 100, { minOneBatch: true })
      assert.equal(readInt64(first.records, 0), bigOffset, 'the first batch whole (KIP-74)')
      await manager.close()
    })

  it('finds offsets for timestamps', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    for (let n = 0; n < 100; n++) await append(log, n)
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 1_000_000,
      leaderEpoch: 0 })
    assert.deepEqual(await log.offsetForTimestamp(1_000_050), { offset: 500, timestamp: 1_000_050,
      leaderEpoch: 0 })
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

  it('counts bytes written before a failed relaxed-mode fsync in the next one', async () => {
    const faults = faultyDisk()
    const warnings: string[] = []
    const manager = await LogManager.open({ dataDir, nodeId: 1, disk: faults.disk,
      defaultConfig: { ...CONFIG, fsyncBeforeAck: false, flushIntervalMessages: 20 },
      logger: { info: () => undefined, warn: message => { warnings.push(message) } } })
    const log = await manager.getOrCreateLog('t', 0)
    await append(log, 0)
    faults.failSyncs = 1
    const warned = warnings.length
    // Relaxed mode acknowledges after the write, while the round's fsync is still running;
    // roundIdle waits for that round instead of guessing how many event-loop turns a real
    // fdatasync takes on a busy disk (1000 setImmediate turns were sometimes not enough).
    await append(log, 1) // acknowledged before its fsync, which fails; nothing is cut
    await log.roundIdle()
    assert.equal(warnings.length, warned + 1)
    assert.match(warnings.at(-1) ?? '', /EIO/)
    await append(log, 2) // the next fsync covers all three batches
    await log.roundIdle()
    assert.equal(log.durableEndOffset, 30)
    assert.equal(manager.flushStats.bytes, batch(0).length + batch(1).length + batch(2).length)
    await manager.close()
  })

  it('keeps the high watermark at written bytes, never backwards, across a failed write',
    async () => {
      // Before, the relaxed-mode high watermark was the log end offset, reservations included:
      // it showed 20 while batch 1 was being written, fell back to 10 when the write failed,
      // and batch 2 then reused offsets 10..19 that a consumer had been told existed.
      for (const fsyncBeforeAck of [false, true]) {
        const faults = faultyDisk()
        const manager = await LogManager.open({ dataDir, nodeId: 1, disk: faults.disk,
          defaultConfig: { ...CONFIG, fsyncBeforeAck, flushIntervalMessages: 1000 } })
        const log = await manager.getOrCreateLog(`t${String(fsyncBeforeAck)}`, 0)
        await append(log, 0)
        assert.equal(log.highWatermark, 10)
        faults.failWrites = 1
        const samples: number[] = []
        let outcome: unknown
        const failed = append(log, 1).then(() => 'appended', (error: unknown) => error)
          .then(result => { outcome = result })
        while (outcome === undefined) {
          samples.push(log.highWatermark)
          assert.ok(log.highWatermark <= log.writtenEndOffset, 'only written bytes are visible')
          await new Promise(resolve => setImmediate(resolve))
        }
        await failed
        assert.equal((outcome as { kind?: string }).kind, 'KAFKA_STORAGE_ERROR')
        assert.ok(samples.length > 0 && samples.every(hw => hw === 10), `HW ${samples.join()}`)
        const next = await append(log, 2)
        assert.ok(next.baseOffset >= Math.max(...samples), 'no offset below a seen HW reused')
        assert.equal(next.baseOffset, 10)
        await log.roundIdle()
        assert.equal(log.highWatermark, 20)
        await manager.close()
      }
    })

  it('rejects, never strands, an append queued while the round before it fails', async () => {
    const faults = faultyDisk()
    const manager = await LogManager.open({ dataDir, nodeId: 1, disk: faults.disk,
      defaultConfig: { ...CONFIG, fsyncBeforeAck: false, flushIntervalMessages: 20 } })
    const log = await manager.getOrCreateLog('t', 0)
    await append(log, 0)
    faults.failSyncs = 1
    await append(log, 1) // its fsync fails in the microtasks right after this resolves
    const queued = append(log, 2) // queued before the failure drops every queued write
    await assert.rejects(queued, { kind: 'KAFKA_STORAGE_ERROR', message: /EIO/ })
    assert.equal((await append(log, 3)).baseOffset, 20, 'the dropped batch left no trace')
    await manager.close()
  })

  it('writes index entries that each point at the start of the batch ending at that offset',
    async () => {
      const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
      const log = await manager.getOrCreateLog('t', 0)
      for (let n = 0; n < 150; n++) await append(log, n)
      await manager.close()
      const directory = path.join(dataDir, 't-0')
      const logs = (await readdir(directory)).filter(name => name.endsWith('.log')).sort()
      assert.ok(logs.length > 1, 'the test spans several segments')
      let entries = 0
      for (const name of logs) {
        const base = Number(name.slice(0, 20))
        const segment = await readFile(path.join(directory, name))
        const index = await readFile(path.join(directory, name.replace('.log', '.index')))
        const starts = new Map(splitBatches(segment).map(({ position }) =>
          [position, readInt64(segment, position) + segment.readInt32BE(position + 23)]))
        for (let at = 0; at < index.length; at += 8) {
          const lastOffset = starts.get(index.readInt32BE(at + 4))
          assert.equal(lastOffset, base + index.readInt32BE(at), `entry ${at / 8} of ${name}`)
          entries++
        }
        const times = await readFile(path.join(directory, name.replace('.log', '.timeindex')))
        let previous = -1
        for (let at = 0; at < times.length; at += 12) {
          const timestamp = Number(times.readBigInt64BE(at))
          assert.ok(timestamp > previous, 'time index timestamps increase')
          previous = timestamp
        }
        const lastBatch = splitBatches(segment).at(-1)
        assert.ok(lastBatch !== undefined)
        assert.equal(previous, readInt64(segment, lastBatch.position + 35),
          'a final time entry holds the segment maximum')
      }
      assert.ok(entries > 0 && entries < 150 / 2, `${entries} index entries for 150 batches`)
    })

  it('reopens to the same bytes after a clean shutdown', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    await Promise.all(Array.from({ length: 120 }, (_, n) => append(log, n)))
    const before = (await log.read(0, 1 << 20)).records
    const lastBefore = (await log.read(1150, 1 << 20)).records
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const again = reopened.getLog('t', 0) as PartitionLog
    assert.equal(again.logEndOffset, 1200)
    assert.ok((await again.read(0, 1 << 20)).records.equals(before))
    assert.ok((await again.read(1150, 1 << 20)).records.equals(lastBefore))
    await reopened.close()
  })

  it('after a clean shutdown, cuts garbage off an older segment and keeps the segments after it',
    async () => {
      const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
      const log = await manager.getOrCreateLog('t', 0)
      await Promise.all(Array.from({ length: 120 }, (_, n) => append(log, n)))
      const bases = await readAll(log)
      const segments = log.segmentCount
      await manager.close()
      const directory = path.join(dataDir, 't-0')
      const first = (await readdir(directory)).filter(name => name.endsWith('.log')).sort()[0]
      const garbage = Buffer.from('not a record batch')
      await appendFile(path.join(directory, first as string), garbage)
      const warnings: string[] = []
      const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG,
        logger: { info: () => undefined, warn: message => { warnings.push(message) } } })
      const again = reopened.getLog('t', 0) as PartitionLog
      assert.equal(again.segmentCount, segments, 'the later segments are kept')
      assert.equal(again.logEndOffset, 1200)
      assert.deepEqual(await readAll(again), bases)
      assert.match(warnings.join('\n'), new RegExp(`${garbage.length} bytes truncated`))
      await reopened.close()
    })

  it('rejects appends covered by a failed write or fsync, drops them, and heals', async () => {
    const faults = faultyDisk()
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG,
      disk: faults.disk })
    const log = await manager.getOrCreateLog('t', 0)
    await append(log, 0)
    faults.failWrites = 1
    await assert.rejects(append(log, 1), { kind: 'KAFKA_STORAGE_ERROR', message: /ENOSPC/ })
    assert.equal((await append(log, 2)).baseOffset, 10, 'the failed batch left no trace')
    // An fsync failure, and the truncation after it fails too: appends fail until it works.
    // Three fsyncs fail: the round's, the truncation's after it, and the retried truncation's.
    faults.failSyncs = 3
    await assert.rejects(append(log, 3), { kind: 'KAFKA_STORAGE_ERROR', message: /EIO/ })
    await assert.rejects(append(log, 4), { kind: 'KAFKA_STORAGE_ERROR', message: /truncation/ })
    assert.equal((await append(log, 5)).baseOffset, 20, 'healed once the disk works again')
    assert.deepEqual(await readAll(log), [0, 10, 20])
    const { records } = await log.read(20, 1 << 20)
    assert.ok(records.equals(stamped(batch(5), 20)), 'offset 20 holds the sixth batch')
    assert.equal(manager.flushStats.bytes, batch(0).length + batch(2).length + batch(5).length,
      'the flush counters count what was made durable, not the bytes cut after a failed fsync')
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    assert.deepEqual(await readAll(reopened.getLog('t', 0) as PartitionLog), [0, 10, 20])
    await reopened.close()
  })

  it('makes appends wait when the pending-bytes budget is used up', async () => {
    const budget = 10 * 1024
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG,
      pendingBytesMax: budget })
    const log = await manager.getOrCreateLog('t', 0)
    const appends = Array.from({ length: 100 }, (_, n) => append(log, n))
    assert.ok(manager.pendingBytes <= budget, `${manager.pendingBytes} bytes pending`)
    assert.ok(log.logEndOffset < 1000, 'later appends wait before getting offsets')
    const results = await Promise.all(appends)
    results.forEach((result, n) => assert.equal(result.baseOffset, n * 10, 'call order kept'))
    assert.equal(manager.pendingBytes, 0)
    await manager.close()
  })

  it('caps a read at READ_BYTES_MAX whatever maxBytes a client asks for', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    for (let n = 0; n < 20; n++) await append(log, n)
    const { records } = await log.read(0, 2 ** 31 - 1)
    assert.equal(splitBatches(records).length, 20)
    assert.equal((await log.read(200, 100)).records.length, 0, 'nothing at the log end')
    await assert.rejects(log.read(201, 100), { kind: 'OFFSET_OUT_OF_RANGE' })
    await manager.close()
  })

  it('keeps producer state across truncateTo and forgets the truncated batches', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    const producer = { producerId: 7, producerEpoch: 0 }
    for (let n = 0; n < 90; n++) await append(log, n, { ...producer, baseSequence: n * 10 })
    assert.ok(log.segmentCount > 1)
    await log.truncateTo(800)
    assert.equal(log.logEndOffset, 800)
    const snapshots = (await readdir(path.join(dataDir, 't-0')))
      .filter(name => name.endsWith('.snapshot')).map(name => Number(name.slice(0, 20)))
    assert.ok(snapshots.every(offset => offset <= 800), `snapshots ${snapshots.join(',')}`)
    assert.equal((await append(log, 79, { ...producer, baseSequence: 790 })).duplicate, true)
    const next = await append(log, 80, { ...producer, baseSequence: 800 })
    assert.deepEqual([next.baseOffset, next.duplicate], [800, false])
    await manager.close()
  })

  it('reports the append time of a LogAppendTime batch', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    const bytes = batch(0)
    bytes.writeInt16BE(bytes.readInt16BE(21) | 0x08, 21)
    const result = await log.append(bytes, { leaderEpoch: 3, recordsCount: 10,
      maxTimestamp: 1_234_567 })
    assert.equal(result.logAppendTimeMs, 1_234_567)
    assert.equal((await append(log, 1)).logAppendTimeMs, -1)
    const { records } = await log.read(0, 100)
    assert.equal(records.readInt32BE(12), 3, 'the leader epoch is stamped')
    await manager.close()
  })

  it('refuses a batch whose length field does not match its bytes', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    const options = { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1 }
    await assert.rejects(log.append(batch(0).subarray(0, 500), options),
      { kind: 'CORRUPT_MESSAGE' })
    await assert.rejects(log.append(Buffer.alloc(20), options), { kind: 'CORRUPT_MESSAGE' })
    assert.equal(log.logEndOffset, 0)
    assert.equal(manager.pendingBytes, 0)
    await manager.close()
  })
})
