/**
 * Follower crash test: a child replicates a prepared leader log with appendAsFollower (and
 * truncates now and then) while the parent SIGKILLs it at seeded random moments. After each
 * kill the follower's log must reopen as a byte-identical prefix of the leader's, at least up
 * to what it acknowledged, with exactly the leader's epoch entries below its end (the
 * leader-epoch-checkpoint rebuilt where a kill left it behind the data), and its segment files
 * must validate on disk. Prints `N passed, M failed`. CRASH_SEED replays a run, CRASH_CYCLES
 * sets the number of kills.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { LeaderEpochCache, type EpochEntry } from '../../src/storage/leader-epoch-cache.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { CrashTally } from '../support/crash-tally.js'
import { validatePartitionDir } from '../support/segment-validator.js'
import { seededRandom } from '../support/seeded-random.js'
import { FOLLOWER_CONFIG, writeLeaderLog } from './follower-log.js'
import { runWriterUntilKilled } from './killed-writer.js'

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'follower-writer.js')
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 8)

const tally = new CrashTally(`follower crash: ${CYCLES} SIGKILL cycles, CRASH_SEED=${SEED}`)
after(() => tally.print())

/** Every batch of the log by base offset, checking that offsets are contiguous. */
async function batchesOf (log: PartitionLog): Promise<Map<number, Buffer>> {
  const batches = new Map<number, Buffer>()
  let offset = log.logStartOffset
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20)
    assert.ok(records.length > 0, `read at ${offset} returned nothing`)
    for (const { position, size } of splitBatches(records)) {
      assert.equal(readInt64(records, position), offset, 'offsets are contiguous')
      batches.set(offset, records.subarray(position, position + size))
      offset += records.readInt32BE(position + 23) + 1
    }
  }
  return batches
}

interface ProducerView { lastSequence: number, currentTxnStartOffset: number }

/** What the log's producer state says of each producer. */
function producersOf (log: PartitionLog): Map<number, ProducerView> {
  return new Map(log.activeProducers().map(p => [p.producerId,
    { lastSequence: p.lastSequence, currentTxnStartOffset: p.currentTxnStartOffset }]))
}

/** What the batches say: each producer's last sequence and its open transaction's start. */
function producersIn (batches: Map<number, Buffer>): Map<number, ProducerView> {
  const producers = new Map<number, ProducerView>()
  for (const [offset, batch] of batches) {
    const producerId = readInt64(batch, 43)
    if (producerId < 0) continue
    const attributes = batch.readInt16BE(21)
    const view = producers.get(producerId) ?? { lastSequence: -1, currentTxnStartOffset: -1 }
    if ((attributes & 0x20) !== 0) {
      view.currentTxnStartOffset = -1 // a marker ends the transaction
    } else {
      view.lastSequence = batch.readInt32BE(53) + batch.readInt32BE(23)
      if ((attributes & 0x10) !== 0 && view.currentTxnStartOffset < 0) {
        view.currentTxnStartOffset = offset
      }
    }
    producers.set(producerId, view)
  }
  return producers
}

/** The lowest log end the follower may reopen with: what it last reported durable. */
function durableFloor (lines: string[]): number | undefined {
  for (const line of [...lines].reverse()) {
    if (line === 'TRUNCATING') return undefined
    const match = /^(?:ACK|TRUNCATED) (\d+)$/.exec(line)
    if (match !== null) return Number(match[1])
  }
  return 0
}

async function verifyFollower (followerDir: string, lines: string[],
  leader: { batches: Map<number, Buffer>, epochs: EpochEntry[] }): Promise<number> {
  const manager = await LogManager.open({ dataDir: followerDir, nodeId: 2,
    defaultConfig: FOLLOWER_CONFIG })
  try {
    const log = manager.getLog('crash', 0)
    assert.ok(log !== undefined, 'the follower log exists')
    const floor = durableFloor(lines)
    if (floor !== undefined) {
      assert.ok(log.logEndOffset >= floor,
        `log end ${log.logEndOffset} below the acknowledged ${floor}`)
    }
    const batches = await batchesOf(log)
    for (const [offset, bytes] of batches) {
      assert.ok(leader.batches.get(offset)?.equals(bytes) === true,
        `the batch at ${offset} differs from the leader's`)
    }
    assert.deepEqual(producersOf(log), producersIn(batches), 'producer state as the batches say')
    const expected = new LeaderEpochCache(leader.epochs)
    expected.truncateFromEnd(log.logEndOffset)
    assert.deepEqual(log.epochEntries, expected.entries, 'the leader\'s epochs below the end')
    return log.logEndOffset
  } finally {
    await manager.close()
    const validation = await validatePartitionDir(path.join(followerDir, 'crash-0'),
      { mode: 'strict', indexIntervalBytes: FOLLOWER_CONFIG.indexIntervalBytes })
    assert.deepEqual(validation.problems, [], 'the segment files validate on disk')
  }
}

describe(`follower crash recovery (CRASH_SEED=${SEED})`, () => {
  it('reopens a SIGKILLed follower as a byte-identical prefix of its leader', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'tributary-follower-crash-'))
    try {
      const leaderDir = path.join(directory, 'leader')
      const followerDir = path.join(directory, 'follower')
      await writeLeaderLog(leaderDir, 400)
      const leaders = await LogManager.open({ dataDir: leaderDir, nodeId: 1,
        defaultConfig: FOLLOWER_CONFIG })
      const leaderLog = leaders.getLog('crash', 0) as PartitionLog
      const leader = { batches: await batchesOf(leaderLog), epochs: leaderLog.epochEntries }
      await leaders.close()
      assert.ok(leader.epochs.length > 10, `${leader.epochs.length} leader epochs`)
      const random = seededRandom(SEED)
      let acks = 0
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const lines: string[] = []
        await runWriterUntilKilled(WRITER, [leaderDir, followerDir, String(SEED + cycle)],
          30 + Math.floor(random() * 400), line => lines.push(line))
        acks += lines.filter(line => line.startsWith('ACK ')).length
        await tally.run(`cycle ${cycle}`, async () => {
          const end = await verifyFollower(followerDir, lines, leader)
          console.log(`cycle ${cycle}: ${lines.length} lines, log end ${end}`)
        })
      }
      // An empty follower log passes every check: the writer must have replicated something.
      assert.ok(acks > 0, 'the follower never acknowledged an append')
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
    assert.equal(tally.failed, 0, tally.failures.join('\n'))
  })
})
