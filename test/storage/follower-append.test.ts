/**
 * Storage for replication on real files: PartitionLog.appendAsFollower (byte identity with the
 * leader's segments, refusals, producer state and transactions carried over), the replicated
 * high watermark, truncateFullyAndStartAt and the replication-offset-checkpoint.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { buildControlBatch } from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'

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

export async function leaderMarker (log: PartitionLog, producerId: number, commit: boolean,
  leaderEpoch: number) {
  return log.append(buildControlBatch({ producerId, producerEpoch: 0, commit,
    coordinatorEpoch: 0, timestampMs: 2_000_000 }), {
    leaderEpoch, recordsCount: 1, maxTimestamp: 2_000_000, producerId, producerEpoch: 0,
    baseSequence: -1, isTransactional: true, abortMarker: !commit,
  })
}

/** Everything the leader has written from `from`, as a follower fetch would get it. */
async function fetchAll (log: PartitionLog, from: number): Promise<Buffer> {
  return (await log.read(from, 64 * 1024 * 1024)).records
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
    assert.equal(follower.logEndOffset, 0, 'nothing written')
    await follower.appendAsFollower(records.subarray(0, size))
    await assert.rejects(follower.appendAsFollower(records), { kind: 'OFFSET_OUT_OF_RANGE' })
    assert.equal(follower.logEndOffset, 5)
    assert.equal(follower.sizeBytes, size)
    await leaders.close()
    await followers.close()
  })
})
