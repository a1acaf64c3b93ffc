/**
 * Storage for replication on real files: PartitionLog.appendAsFollower (byte identity with the
 * leader's segments, refusals, producer state and transactions carried over), the replicated
 * high watermark, truncateFullyAndStartAt and the replication-offset-checkpoint.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { buildControlBatch } from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { faultyDisk } from '../support/faulty-disk.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-follower-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const CONFIG = { segmentBytes: 16 * 1024, indexIntervalBytes: 1024 }

interface Producer { producerId: number, producerEpoch: number, baseSequence: number }

function batch (n: number, producer?: Producer, transactional = false): Buffer {
  return buildRecordBatchSync(Array.from({ length: 5 }, (_, i) => ({
    key: `k${n}-${i}`, value: Buffer.alloc(200, n % 256), timestamp: 1_000_000 + n,
  })), { timestampMs: 1_000_000 + n, ...producer, transactional })
}

async function leaderAppend (log: PartitionLog, n: number, leaderEpoch: number,
  producer?: Producer, transactional = false) {
  return log.append(batch(n, producer, transactional), {
    leaderEpoch, recordsCount: 5, maxTimestamp: 1_000_000 + n, ...producer,
    isTransactional: transactional,
  })
}

async function leaderMarker (log: PartitionLog, producerId: number, commit: boolean,
  leaderEpoch: number, coordinatorEpoch = 0) {
  return log.append(buildControlBatch({ producerId, producerEpoch: 0, commit,
    coordinatorEpoch, timestampMs: 2_000_000 }), {
    leaderEpoch, recordsCount: 1, maxTimestamp: 2_000_000, producerId, producerEpoch: 0,
    baseSequence: -1, isTransactional: true, abortMarker: !commit,
  })
}

/** Everything the leader has written from `from` (a read stops at a segment's end). */
async function fetchAll (log: PartitionLog, from: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let offset = from
  while (offset < log.logEndOffset) {
    const records = (await log.read(offset, 64 * 1024 * 1024)).records
    parts.push(records)
    let at = 0
    while (at < records.length) {
      offset = Number(records.readBigInt64BE(at)) + records.readInt32BE(at + 23) + 1
      at += records.readInt32BE(at + 8) + 12
    }
  }
  return Buffer.concat(parts)
}

async function openPair (): Promise<{ leaders: LogManager, followers: LogManager,
  leader: PartitionLog, follower: PartitionLog }> {
  const leaders = await LogManager.open({ dataDir: path.join(dataDir, 'leader'), nodeId: 1,
    defaultConfig: CONFIG })
  const followers = await LogManager.open({ dataDir: path.join(dataDir, 'follower'),
    nodeId: 2, defaultConfig: CONFIG })
  return { leaders, followers, leader: await leaders.getOrCreateLog('t', 0),
    follower: await followers.getOrCreateLog('t', 0) }
}

async function segmentFiles (directory: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const name of (await readdir(directory)).filter(name => name.endsWith('.log')).sort()) {
    files.set(name, await readFile(path.join(directory, name)))
  }
  return files
}

describe('PartitionLog.appendAsFollower', () => {
  it('stores the leader\'s batches byte for byte, with their offsets and epochs', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    for (let n = 0; n < 40; n++) await leaderAppend(leader, n, n < 20 ? 1 : 4)
    // Fetched in pieces, as a follower does, each starting at its log end.
    while (follower.logEndOffset < leader.logEndOffset) {
      const records = (await leader.read(follower.logEndOffset, 5000)).records
      const appended = await follower.appendAsFollower(records)
      assert.ok(appended !== undefined)
      assert.equal(appended.lastOffset + 1, follower.logEndOffset)
    }
    assert.equal(follower.logEndOffset, 200)
    assert.deepEqual(follower.epochEntries, [{ epoch: 1, startOffset: 0 },
      { epoch: 4, startOffset: 100 }])
    assert.deepEqual(follower.epochEntries, leader.epochEntries)
    assert.equal(follower.latestEpoch, 4)
    assert.deepEqual(follower.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 100 })
    assert.deepEqual(follower.endOffsetForEpoch(4), { leaderEpoch: 4, endOffset: 200 })
    assert.deepEqual(follower.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 0 })
    assert.deepEqual(follower.endOffsetForEpoch(5), { leaderEpoch: -1, endOffset: -1 })
    assert.equal(follower.acknowledgedEndOffset, 200, 'fsynced before it resolved')
    assert.equal(follower.highWatermark, 200, 'single node: the log raises its own')
    await leaders.close()
    await followers.close()
    const leaderFiles = await segmentFiles(path.join(dataDir, 'leader', 't-0'))
    const followerFiles = await segmentFiles(path.join(dataDir, 'follower', 't-0'))
    assert.ok(leaderFiles.size > 2, `${leaderFiles.size} segments`)
    assert.deepEqual([...followerFiles.keys()], [...leaderFiles.keys()])
    for (const [name, bytes] of leaderFiles) {
      assert.ok(bytes.equals(followerFiles.get(name) as Buffer), `${name} differs`)
    }
  })

  it('ignores a trailing partial batch and answers undefined for no whole batch', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    for (let n = 0; n < 3; n++) await leaderAppend(leader, n, 0)
    const records = await fetchAll(leader, 0)
    assert.equal(await follower.appendAsFollower(Buffer.alloc(0)), undefined)
    assert.equal(await follower.appendAsFollower(records.subarray(0, 40)), undefined)
    const appended = await follower.appendAsFollower(records.subarray(0, records.length - 7))
    assert.deepEqual(appended, { firstOffset: 0, lastOffset: 9 })
    assert.equal(follower.logEndOffset, 10)
    await leaders.close()
    await followers.close()
  })

  it('refuses bad batches before writing anything', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    for (let n = 0; n < 3; n++) await leaderAppend(leader, n, 0)
    const records = await fetchAll(leader, 0)
    const corrupt = Buffer.from(records)
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1) // CRC
    await assert.rejects(follower.appendAsFollower(corrupt), { kind: 'CORRUPT_MESSAGE' })
    const magic = Buffer.from(records)
    magic.writeInt8(1, 16)
    await assert.rejects(follower.appendAsFollower(magic), { kind: 'CORRUPT_MESSAGE' })
    const short = Buffer.from(records)
    short.writeInt32BE(20, 8)
    await assert.rejects(follower.appendAsFollower(short), { kind: 'CORRUPT_MESSAGE' })
    const size = records.readInt32BE(8) + 12
    const reordered = Buffer.concat([records.subarray(size, 2 * size), records.subarray(0, size)])
    await assert.rejects(follower.appendAsFollower(reordered), { kind: 'CORRUPT_MESSAGE' })
    const far = Buffer.from(records.subarray(0, records.readInt32BE(8) + 12))
    far.writeBigInt64BE(2n ** 32n, 0) // a gap no segment can index
    await assert.rejects(follower.appendAsFollower(far), { kind: 'KAFKA_STORAGE_ERROR' })
    assert.equal(follower.logEndOffset, 0, 'nothing written')
    await follower.appendAsFollower(records.subarray(0, size), { fetchOffset: 0 })
    await assert.rejects(follower.appendAsFollower(records), { kind: 'OFFSET_OUT_OF_RANGE' })
    // A stale response (fetched from 0 before a truncation, say) is refused even past the end.
    const later = records.subarray(2 * size)
    await assert.rejects(follower.appendAsFollower(later, { fetchOffset: 0 }),
      { kind: 'OFFSET_OUT_OF_RANGE' })
    assert.equal(follower.logEndOffset, 5)
    assert.equal(follower.sizeBytes, size)
    await leaders.close()
    await followers.close()
  })
})

describe('appendAsFollower: producer state and transactions move with the data', () => {
  it('answers an idempotent retry after a failover as a duplicate', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    const producer = (baseSequence: number): Producer =>
      ({ producerId: 42, producerEpoch: 3, baseSequence })
    for (let n = 0; n < 4; n++) await leaderAppend(leader, n, 1, producer(n * 5))
    await follower.appendAsFollower(await fetchAll(leader, 0))
    // The follower becomes leader (epoch 2); the producer retries its last batch.
    await follower.assignLeaderEpoch(2)
    assert.deepEqual(follower.epochEntries, [{ epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 20 }])
    assert.deepEqual(follower.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 20 })
    const retry = await leaderAppend(follower, 3, 2, producer(15))
    assert.deepEqual([retry.duplicate, retry.baseOffset, retry.lastOffset], [true, 15, 19])
    assert.equal(follower.logEndOffset, 20, 'written once')
    await assert.rejects(leaderAppend(follower, 9, 2, producer(30)),
      { kind: 'OUT_OF_ORDER_SEQUENCE_NUMBER' })
    const next = await leaderAppend(follower, 4, 2, producer(20))
    assert.deepEqual([next.duplicate, next.baseOffset], [false, 20])
    assert.deepEqual(follower.epochEntries.at(-1), { epoch: 2, startOffset: 20 })
    assert.deepEqual(follower.activeProducers(), leader.activeProducers().map(p =>
      ({ ...p, lastSequence: 24, lastTimestamp: 1_000_004 })))
    await leaders.close()
    await followers.close()
  })

  it('carries ongoing transactions, abort markers and the .txnindex', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    const txn = (producerId: number, baseSequence: number): Producer =>
      ({ producerId, producerEpoch: 0, baseSequence })
    await leaderAppend(leader, 0, 1, txn(7, 0), true) // 0-4
    await leaderAppend(leader, 1, 1, txn(8, 0), true) // 5-9
    await leaderMarker(leader, 7, false, 1) // 10: abort producer 7
    await leaderAppend(leader, 2, 1) // 11-15, plain
    await follower.appendAsFollower(await fetchAll(leader, 0))
    assert.equal(follower.logEndOffset, 16)
    assert.deepEqual(await follower.abortedTransactions(0, 16),
      [{ producerId: 7, firstOffset: 0 }])
    assert.equal(follower.lastStableOffset, 5, 'producer 8 is still open')
    assert.equal(follower.lastStableOffset, leader.lastStableOffset)
    await leaderMarker(leader, 8, true, 1) // 16: commit producer 8
    await follower.appendAsFollower(await fetchAll(leader, 16))
    assert.equal(follower.lastStableOffset, follower.highWatermark)
    await leaders.close()
    await followers.close()
    const index = '00000000000000000000.txnindex'
    assert.ok((await readFile(path.join(dataDir, 'follower', 't-0', index))).equals(
      await readFile(path.join(dataDir, 'leader', 't-0', index))))
  })
})

describe('appendAsFollower: transaction coordinator epochs', () => {
  const coordinatorEpochs = (log: PartitionLog): [number, number][] =>
    log.activeProducers().map(p => [p.producerId, p.coordinatorEpoch])

  it('gives a follower the leader\'s coordinator epochs, kept across its restart',
    async () => {
      const { leaders, followers, leader, follower } = await openPair()
      const txn = (producerId: number, baseSequence: number): Producer =>
        ({ producerId, producerEpoch: 0, baseSequence })
      await leaderAppend(leader, 0, 1, txn(7, 0), true) // 0-4
      await leaderMarker(leader, 7, true, 1, 3) // 5: coordinator epoch 3
      await leaderAppend(leader, 1, 1, txn(8, 0), true) // 6-10
      await leaderMarker(leader, 8, false, 1, 5) // 11
      await leaderAppend(leader, 2, 1, txn(7, 5), true) // 12-16
      await leaderMarker(leader, 7, false, 1, 4) // 17: a newer coordinator for producer 7
      await follower.appendAsFollower(await fetchAll(leader, 0))
      assert.deepEqual(coordinatorEpochs(leader), [[8, 5], [7, 4]])
      assert.deepEqual(coordinatorEpochs(follower), coordinatorEpochs(leader))
      // The follower, made leader, fences a marker of a deposed coordinator as the old leader
      // would have.
      await assert.rejects(leaderMarker(follower, 7, true, 2, 3),
        { kind: 'TRANSACTION_COORDINATOR_FENCED' })
      await leaders.close()
      await followers.close()
      // Restarted twice: from its shutdown snapshot, then from a replay of the log alone (a
      // crash that lost every snapshot).
      const directory = path.join(dataDir, 'follower')
      for (const lose of [false, true]) {
        if (lose) {
          for (const name of await readdir(path.join(directory, 't-0'))) {
            if (name.endsWith('.snapshot')) await rm(path.join(directory, 't-0', name))
          }
          await rm(path.join(directory, '.kafka_cleanshutdown'), { force: true })
        }
        const reopened = await LogManager.open({ dataDir: directory, nodeId: 2,
          defaultConfig: CONFIG })
        const log = reopened.getLog('t', 0) as PartitionLog
        assert.deepEqual(coordinatorEpochs(log).sort(), [[7, 4], [8, 5]],
          lose ? 'replayed from the markers' : 'loaded from the snapshot')
        await assert.rejects(leaderMarker(log, 8, true, 2, 4),
          { kind: 'TRANSACTION_COORDINATOR_FENCED' })
        await reopened.close()
      }
    })
})

describe('truncation and aborted transactions', () => {
  it('drops the aborted transactions whose marker a truncation removed', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    const txn = { producerId: 7, producerEpoch: 0, baseSequence: 0 }
    await leaderAppend(leader, 0, 1, txn, true) // 0-4
    await leaderMarker(leader, 7, false, 1) // 5: abort
    await leaderAppend(leader, 1, 1) // 6-10
    await follower.appendAsFollower(await fetchAll(leader, 0))
    assert.deepEqual(await follower.abortedTransactions(0, 11),
      [{ producerId: 7, firstOffset: 0 }])
    await follower.truncateTo(5) // the marker goes: the transaction is open again
    assert.deepEqual(await follower.abortedTransactions(0, 5), [])
    assert.equal(follower.lastStableOffset, 0)
    await followers.close()
    await leaders.close()
    const index = path.join(dataDir, 'follower', 't-0', '00000000000000000000.txnindex')
    assert.equal((await readFile(index)).length, 0)
    const reopened = await LogManager.open({ dataDir: path.join(dataDir, 'follower'),
      nodeId: 2, defaultConfig: CONFIG })
    assert.deepEqual(await (reopened.getLog('t', 0) as PartitionLog).abortedTransactions(0, 5),
      [])
    await reopened.close()
  })
})

describe('appendAsFollower: segments', () => {
  it('accepts a batch larger than segment.bytes in a segment of its own', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    await leaderAppend(leader, 0, 0)
    leader.updateConfig({ segmentBytes: 64 * 1024 })
    const big = buildRecordBatchSync([{ value: Buffer.alloc(40 * 1024, 1) }],
      { timestampMs: 1_000_000 })
    await leader.append(big, { leaderEpoch: 0, recordsCount: 1, maxTimestamp: 1_000_000 })
    await leaderAppend(leader, 2, 0)
    await follower.appendAsFollower(await fetchAll(leader, 0))
    assert.equal(follower.logEndOffset, 11)
    assert.deepEqual(follower.segmentBaseOffsets, [0, 5, 6])
    assert.ok((await follower.read(5, 1)).records.subarray(0, big.length).equals(big))
    await leaders.close()
    await followers.close()
  })
})

describe('replicated high watermark', () => {
  it('rises only by advanceHighWatermark, up to the acknowledged end, never back', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    follower.setReplicated(true)
    for (let n = 0; n < 4; n++) await leaderAppend(leader, n, 0)
    await follower.appendAsFollower(await fetchAll(leader, 0))
    assert.equal(follower.acknowledgedEndOffset, 20)
    assert.equal(follower.highWatermark, 0)
    let woken = 0
    follower.onAppend(() => { woken++ })
    assert.equal(follower.advanceHighWatermark(12), true)
    assert.equal(follower.highWatermark, 12)
    assert.equal(woken, 1)
    assert.equal(follower.advanceHighWatermark(8), false, 'never backwards')
    assert.equal(follower.advanceHighWatermark(99), true)
    assert.equal(follower.highWatermark, 20, 'capped at the acknowledged end')
    assert.equal(follower.lastStableOffset, 20)
    // A leader in replicated mode: its own appends leave the high watermark alone.
    leader.setReplicated(true)
    await leaderAppend(leader, 4, 0)
    assert.equal(leader.highWatermark, 20)
    leader.setReplicated(false)
    assert.equal(leader.highWatermark, 25, 'single node again: the acknowledged end')
    await leaders.close()
    await followers.close()
  })

  it('truncateTo may lower it (a follower truncating) and cuts the epoch cache', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    follower.setReplicated(true)
    for (let n = 0; n < 4; n++) await leaderAppend(leader, n, n)
    await follower.appendAsFollower(await fetchAll(leader, 0))
    follower.advanceHighWatermark(20)
    await follower.truncateTo(10)
    assert.equal(follower.highWatermark, 10)
    assert.equal(follower.logEndOffset, 10)
    assert.deepEqual(follower.epochEntries, [{ epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 5 }])
    assert.equal(await readFile(path.join(follower.directory, 'leader-epoch-checkpoint'),
      'utf8'), '0\n2\n0 0\n1 5\n')
    await leaders.close()
    await followers.close()
  })

  it('is checkpointed as soon as a log turns replicated', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    for (let n = 0; n < 2; n++) await leaderAppend(leader, n, 0)
    await follower.appendAsFollower(await fetchAll(leader, 0))
    follower.setReplicated(true) // single node until now: its high watermark is its end
    const file = path.join(dataDir, 'follower', 'replication-offset-checkpoint')
    const deadline = Date.now() + 10_000
    let text = ''
    while (!text.startsWith('0\n1\n') && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 10))
      text = await readFile(file, 'utf8').catch(() => '')
    }
    assert.equal(text, '0\n1\nt 0 10\n')
    await leaders.close()
    await followers.close()
  })

  it('is kept across restarts in replication-offset-checkpoint', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    follower.setReplicated(true)
    for (let n = 0; n < 4; n++) await leaderAppend(leader, n, 0)
    await follower.appendAsFollower(await fetchAll(leader, 0))
    follower.advanceHighWatermark(15)
    await leaders.close()
    await followers.close()
    assert.equal(await readFile(path.join(dataDir, 'follower', 'replication-offset-checkpoint'),
      'utf8'), '0\n1\nt 0 15\n')
    await assert.rejects(readFile(path.join(dataDir, 'leader', 'replication-offset-checkpoint')),
      { code: 'ENOENT' }, 'a broker with no replicated log writes no such file')
    const reopened = await LogManager.open({ dataDir: path.join(dataDir, 'follower'),
      nodeId: 2, defaultConfig: CONFIG })
    const log = reopened.getLog('t', 0) as PartitionLog
    assert.equal(log.replicated, true)
    assert.equal(log.highWatermark, 15)
    assert.equal(log.logEndOffset, 20)
    await reopened.close()
    const single = await LogManager.open({ dataDir: path.join(dataDir, 'leader'), nodeId: 1,
      defaultConfig: CONFIG })
    assert.equal((single.getLog('t', 0) as PartitionLog).highWatermark, 20, 'the durable end')
    assert.equal((single.getLog('t', 0) as PartitionLog).replicated, false)
    await single.close()
  })
})

describe('truncateFullyAndStartAt', () => {
  it('restarts the log empty at an offset, durably', async () => {
    const { leaders, followers, leader, follower } = await openPair()
    follower.setReplicated(true)
    for (let n = 0; n < 20; n++) await leaderAppend(leader, n, 2, {
      producerId: 5, producerEpoch: 0, baseSequence: n * 5 })
    await follower.appendAsFollower(await fetchAll(leader, 0))
    follower.advanceHighWatermark(100)
    assert.ok(follower.segmentCount > 1, `${follower.segmentCount} segments`)
    await follower.truncateFullyAndStartAt(1000)
    assert.deepEqual([follower.logStartOffset, follower.logEndOffset, follower.highWatermark,
      follower.acknowledgedEndOffset], [1000, 1000, 1000, 1000])
    assert.deepEqual(follower.segmentBaseOffsets, [1000])
    assert.equal(follower.latestEpoch, -1)
    assert.deepEqual(follower.activeProducers(), [])
    await assert.rejects(follower.read(0, 100), { kind: 'OFFSET_OUT_OF_RANGE' })
    await assert.rejects(follower.appendAsFollower(await fetchAll(leader, 0)),
      { kind: 'OFFSET_OUT_OF_RANGE' })
    // The leader's log from 1000 on: the follower takes it from there.
    await leader.truncateFullyAndStartAt(1000)
    await leaderAppend(leader, 11, 3)
    await follower.appendAsFollower(await fetchAll(leader, 1000))
    assert.equal(follower.logEndOffset, 1005)
    assert.deepEqual(follower.epochEntries, [{ epoch: 3, startOffset: 1000 }])
    await followers.close()
    await leaders.close()
    const names = await readdir(path.join(dataDir, 'follower', 't-0'))
    assert.deepEqual(names.filter(name => /^\d{20}\.log$/.test(name)),
      ['00000000000000001000.log'])
    assert.equal(await readFile(path.join(dataDir, 'follower', 'log-start-offset-checkpoint'),
      'utf8'), '0\n1\nt 0 1000\n')
    const reopened = await LogManager.open({ dataDir: path.join(dataDir, 'follower'),
      nodeId: 2, defaultConfig: CONFIG })
    const log = reopened.getLog('t', 0) as PartitionLog
    assert.deepEqual([log.logStartOffset, log.logEndOffset], [1000, 1005])
    await reopened.close()
  })
})

describe('leader-epoch-checkpoint at load', () => {
  async function writtenLog (): Promise<string> {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = await manager.getOrCreateLog('t', 0)
    for (let n = 0; n < 30; n++) await leaderAppend(log, n, Math.floor(n / 10) * 2)
    assert.deepEqual(log.epochEntries, [{ epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 50 }, { epoch: 4, startOffset: 100 }])
    await manager.close()
    return path.join(dataDir, 't-0', 'leader-epoch-checkpoint')
  }

  async function reopenedEntries (): Promise<string> {
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const entries = (manager.getLog('t', 0) as PartitionLog).epochEntries
    await manager.close()
    assert.deepEqual(entries, [{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 50 },
      { epoch: 4, startOffset: 100 }])
    return readFile(path.join(dataDir, 't-0', 'leader-epoch-checkpoint'), 'utf8')
  }

  it('is written in Kafka\'s format', async () => {
    assert.equal(await readFile(await writtenLog(), 'utf8'), '0\n3\n0 0\n2 50\n4 100\n')
  })

  it('is rebuilt from the batches when missing', async () => {
    await rm(await writtenLog())
    assert.equal(await reopenedEntries(), '0\n3\n0 0\n2 50\n4 100\n')
  })

  it('is rebuilt from the batches when torn', async () => {
    const file = await writtenLog()
    await writeFile(file, '0\n3\n0 0\n2 5')
    assert.equal(await reopenedEntries(), '0\n3\n0 0\n2 50\n4 100\n')
  })

  it('gets the entries a crash kept from it (stale: data written after it)', async () => {
    const file = await writtenLog()
    await writeFile(file, '0\n1\n0 0\n')
    assert.equal(await reopenedEntries(), '0\n3\n0 0\n2 50\n4 100\n')
  })

  it('loses entries past the log end (stale: a truncation it missed)', async () => {
    const file = await writtenLog()
    await writeFile(file, '0\n4\n0 0\n2 50\n4 100\n6 150\n')
    assert.equal(await reopenedEntries(), '0\n3\n0 0\n2 50\n4 100\n')
  })

  it('is rebuilt when it disagrees with the last batch', async () => {
    const file = await writtenLog()
    await writeFile(file, '0\n2\n0 0\n7 120\n')
    assert.equal(await reopenedEntries(), '0\n3\n0 0\n2 50\n4 100\n')
  })

  it('follows the log start up (DeleteRecords)', async () => {
    await writtenLog()
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    const log = manager.getLog('t', 0) as PartitionLog
    await log.deleteSegmentsBefore(60)
    assert.deepEqual(log.epochEntries, [{ epoch: 2, startOffset: 60 },
      { epoch: 4, startOffset: 100 }])
    assert.deepEqual(log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 60 })
    await manager.close()
    assert.equal(await readFile(path.join(dataDir, 't-0', 'leader-epoch-checkpoint'), 'utf8'),
      '0\n2\n2 60\n4 100\n')
  })
})

describe('a failed write in replicated mode', () => {
  it('cuts back to the acknowledged end, not to the lower high watermark', async () => {
    const leaders = await LogManager.open({ dataDir: path.join(dataDir, 'leader'), nodeId: 1,
      defaultConfig: CONFIG })
    const faults = faultyDisk()
    const followers = await LogManager.open({ dataDir: path.join(dataDir, 'follower'),
      nodeId: 2, defaultConfig: CONFIG, disk: faults.disk })
    const leader = await leaders.getOrCreateLog('t', 0)
    const follower = await followers.getOrCreateLog('t', 0)
    follower.setReplicated(true)
    for (let n = 0; n < 3; n++) await leaderAppend(leader, n, 0)
    const records = await fetchAll(leader, 0)
    const size = records.readInt32BE(8) + 12
    await follower.appendAsFollower(records.subarray(0, size))
    assert.deepEqual([follower.acknowledgedEndOffset, follower.highWatermark], [5, 0])
    faults.failSyncs = 1
    await assert.rejects(follower.appendAsFollower(records.subarray(size)),
      { kind: 'KAFKA_STORAGE_ERROR' })
    await follower.truncateTo(Number.MAX_SAFE_INTEGER) // waits for the cut
    assert.deepEqual([follower.logEndOffset, follower.highWatermark], [5, 0],
      'the acknowledged batch stays')
    assert.ok((await follower.read(0, 1)).records.equals(records.subarray(0, size)))
    await follower.appendAsFollower(records.subarray(size))
    assert.deepEqual([follower.logEndOffset, follower.highWatermark], [15, 0])
    await leaders.close()
    await followers.close()
  })
})

describe('a compacted leader', () => {
  const COMPACT = { segmentBytes: 2048, cleanupPolicy: ['compact'] as const,
    minCleanableDirtyRatio: 0, deleteRetentionMs: 60_000, fileDeleteDelayMs: 1000 }

  it('is replicated with its offset gaps, and truncation makes the cut dirty', async () => {
    const leaders = await LogManager.open({ dataDir: path.join(dataDir, 'leader'), nodeId: 1,
      defaultConfig: COMPACT })
    const followers = await LogManager.open({ dataDir: path.join(dataDir, 'follower'),
      nodeId: 2, defaultConfig: COMPACT })
    const leader = await leaders.getOrCreateLog('t', 0)
    const follower = await followers.getOrCreateLog('t', 0)
    for (let n = 0; n < 60; n++) {
      await leader.append(buildRecordBatchSync([{ key: `k${n % 4}`, value: `v${n}` }],
        { timestampMs: Date.now() }), { leaderEpoch: 0, recordsCount: 1,
        maxTimestamp: Date.now() })
    }
    assert.ok(await leaders.cleaner.cleanOnce() !== undefined, 'the leader was cleaned')
    const leaderBytes = await fetchAll(leader, 0)
    // Fetched from the follower's log end each time, as a replica fetcher does.
    while (follower.logEndOffset < leader.logEndOffset) {
      const { records } = await leader.read(follower.logEndOffset, 1 << 20)
      assert.ok(await follower.appendAsFollower(records) !== undefined)
    }
    assert.ok((await fetchAll(follower, 0)).equals(leaderBytes), 'the same batches')
    assert.ok(leaderBytes.length < 60 * 70, 'the leader\'s log had gaps')
    // The leader becomes a follower that must truncate below what it cleaned.
    const dirty = leaders.cleaner.stateOf('t-0').firstDirtyOffset
    assert.ok(dirty > 30, `first dirty offset ${dirty}`)
    await leader.truncateTo(30)
    assert.ok(leader.logEndOffset <= 30)
    assert.equal(leaders.cleaner.stateOf('t-0').firstDirtyOffset, leader.logEndOffset)
    await leaders.close()
    await followers.close()
  })
})
