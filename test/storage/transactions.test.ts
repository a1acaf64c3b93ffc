/**
 * The partition side of transactions on real files: the last stable offset stops at the first
 * offset of the oldest open transaction; COMMIT/ABORT markers (control batches) end it; an
 * abort is listed for read_committed reads from the segment's `.txnindex` (Kafka's 34-byte
 * entries) and survives a restart, also one where the index file was lost (rebuilt from the
 * marker); a marker fences the producer's older epoch.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { buildControlBatch } from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { decodeTxnIndex } from '../../src/storage/txn-index.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-txn-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const CONFIG = { segmentBytes: 64 * 1024, indexIntervalBytes: 4096 }

async function data (log: PartitionLog, producerId: number, sequence: number,
  transactional: boolean, epoch = 0): Promise<number> {
  const batch = buildRecordBatchSync([{ value: `v${sequence}` }, { value: `w${sequence}` }], {
    producerId, producerEpoch: epoch, baseSequence: sequence, transactional })
  const result = await log.append(batch, { leaderEpoch: 0, recordsCount: 2,
    maxTimestamp: Date.now(), producerId, producerEpoch: epoch, baseSequence: sequence,
    isTransactional: transactional })
  return result.baseOffset
}

async function marker (log: PartitionLog, producerId: number, commit: boolean, epoch = 0):
Promise<number> {
  const batch = buildControlBatch({ producerId, producerEpoch: epoch, commit,
    coordinatorEpoch: 1, timestampMs: Date.now() })
  const result = await log.append(batch, { leaderEpoch: 0, recordsCount: 1,
    maxTimestamp: Date.now(), producerId, producerEpoch: epoch, baseSequence: -1,
    isTransactional: true, abortMarker: !commit })
  return result.baseOffset
}

describe('transactions on a partition', () => {
  it('holds the LSO at the oldest open transaction and lists aborts from .txnindex', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    await data(log, 1, 0, false) // 0-1, idempotent only
    assert.equal(log.lastStableOffset, 2)
    const first = await data(log, 7, 0, true) // 2-3: producer 7 opens a transaction
    await data(log, 8, 0, true) // 4-5: producer 8 too
    assert.equal(first, 2)
    assert.equal(log.lastStableOffset, 2, 'stops at the oldest open transaction')
    const abortAt = await marker(log, 7, false) // 6
    assert.equal(log.lastStableOffset, 4, 'producer 8 still open')
    await marker(log, 8, true) // 7
    assert.equal(log.lastStableOffset, log.highWatermark)
    await data(log, 8, 2, true) // 8-9: producer 8 again, aborted
    await marker(log, 8, false) // 10
    assert.deepEqual(await log.abortedTransactions(0, 8), [{ producerId: 7, firstOffset: 2 }])
    assert.deepEqual(await log.abortedTransactions(7, 8), [], 'only aborts overlapping the range')
    const names = await readdir(log.directory)
    const index = names.find(name => name.endsWith('.txnindex'))
    assert.ok(index !== undefined, `a .txnindex among ${names.join(', ')}`)
    assert.deepEqual(decodeTxnIndex(await readFile(path.join(log.directory, index))),
      [{ producerId: 7, firstOffset: 2, lastOffset: abortAt, lastStableOffset: 4 },
        { producerId: 8, firstOffset: 8, lastOffset: 10, lastStableOffset: 11 }],
      'entries appended in marker order')
    await manager.close()

    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const again = reopened.getLog('t', 0) as PartitionLog
    assert.deepEqual(await again.abortedTransactions(0, 11), [{ producerId: 7, firstOffset: 2 },
      { producerId: 8, firstOffset: 8 }])
    assert.equal(again.lastStableOffset, again.highWatermark)
    await reopened.close()
  })

  it('rebuilds a lost .txnindex entry and an open transaction after a crash', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    await data(log, 7, 0, true) // 0-1
    await marker(log, 7, false) // 2
    await data(log, 9, 0, true) // 3-4: left open by the crash
    const directory = log.directory
    await manager.close()
    // A crash before the index and any snapshot were written: only the log remains.
    for (const name of await readdir(directory)) {
      if (name.endsWith('.txnindex') || name.endsWith('.snapshot')) {
        await rm(path.join(directory, name))
      }
    }
    await rm(path.join(dataDir, '.kafka_cleanshutdown'), { force: true })
    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const again = reopened.getLog('t', 0) as PartitionLog
    assert.deepEqual(await again.abortedTransactions(0, 5), [{ producerId: 7, firstOffset: 0 }])
    assert.equal(again.lastStableOffset, 3, 'the open transaction still holds the LSO')
    assert.ok((await readdir(directory)).some(name => name.endsWith('.txnindex')),
      'the index was written again')
    await reopened.close()
  })

  it('refuses a transactional batch whose verification fails as offsets are assigned',
    async () => {
      const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
      const log = await manager.getOrCreateLog('t', 0)
      let ended = false
      const verifyTransaction = () => ended
        ? { kind: 'INVALID_TXN_STATE', message: 'the transaction ended' }
        : undefined
      const batch = (sequence: number) => buildRecordBatchSync([{ value: 'late' }], {
        producerId: 7, producerEpoch: 0, baseSequence: sequence, transactional: true })
      const options = { leaderEpoch: 0, recordsCount: 1, maxTimestamp: Date.now(),
        producerId: 7, producerEpoch: 0, isTransactional: true, verifyTransaction }
      await log.append(batch(0), { ...options, baseSequence: 0 })
      await marker(log, 7, true)
      // The marker got in between the coordinator's check and the append (the late-marker
      // race): without the check at append time this batch would open a transaction that
      // no one ends, and the LSO would stay at its offset for good.
      ended = true
      await assert.rejects(log.append(batch(1), { ...options, baseSequence: 1 }),
        { kind: 'INVALID_TXN_STATE' })
      assert.equal(log.lastStableOffset, log.highWatermark)
      assert.equal(log.logEndOffset, 2)
      await manager.close()
    })

  it('fences the older epoch with a marker of a newer one', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    await data(log, 7, 0, true, 0)
    await marker(log, 7, false, 1) // the coordinator aborted with a bumped epoch
    await assert.rejects(data(log, 7, 1, true, 0), { kind: 'INVALID_PRODUCER_EPOCH' })
    await assert.rejects(marker(log, 7, true, 0), { kind: 'INVALID_PRODUCER_EPOCH' })
    await manager.close()
  })

  it('replays coordinator epochs from markers, also one cut by a 64 KiB read chunk',
    async () => {
      const config = { segmentBytes: 1024 * 1024, indexIntervalBytes: 4096 }
      const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: config })
      const log = await manager.getOrCreateLog('t', 0)
      const file = path.join(log.directory, '00000000000000000000.log')
      await data(log, 7, 0, true) // producer 7's transaction
      // A filler batch that leaves the marker 70 bytes before the end of the first 64 KiB
      // chunk a replay reads: its 61-byte header fits in that chunk, its record does not.
      const target = 64 * 1024 - 70
      const written = (await stat(file)).size
      let filler: Buffer = Buffer.alloc(0)
      for (let length = target - written - 100; filler.length !== target - written; length++) {
        filler = buildRecordBatchSync([{ value: Buffer.alloc(length) }])
        assert.ok(filler.length <= target - written, 'a filler of the exact size exists')
      }
      await log.append(filler, { leaderEpoch: 0, recordsCount: 1, maxTimestamp: Date.now() })
      assert.equal((await stat(file)).size, target)
      const control = buildControlBatch({ producerId: 7, producerEpoch: 0, commit: true,
        coordinatorEpoch: 9, timestampMs: Date.now() })
      assert.ok(control.length > 70, 'the marker crosses the chunk end')
      await log.append(control, { leaderEpoch: 0, recordsCount: 1, maxTimestamp: Date.now(),
        producerId: 7, producerEpoch: 0, baseSequence: -1, isTransactional: true })
      await marker(log, 8, false) // producer 8: coordinator epoch 1, inside the next chunk
      await assert.rejects(marker(log, 7, false), { kind: 'TRANSACTION_COORDINATOR_FENCED' },
        'coordinator epoch 1 after 9')
      const directory = log.directory
      await manager.close()
      // A crash that lost every snapshot: the coordinator epochs come from a replay.
      for (const name of await readdir(directory)) {
        if (name.endsWith('.snapshot')) await rm(path.join(directory, name))
      }
      await rm(path.join(dataDir, '.kafka_cleanshutdown'), { force: true })
      const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: config })
      const again = reopened.getLog('t', 0) as PartitionLog
      assert.deepEqual(again.activeProducers().map(p => [p.producerId, p.coordinatorEpoch])
        .sort(), [[7, 9], [8, 1]])
      await assert.rejects(marker(again, 7, false), { kind: 'TRANSACTION_COORDINATOR_FENCED' })
      await reopened.close()
    })
})
