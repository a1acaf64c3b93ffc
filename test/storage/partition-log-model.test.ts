/**
 * A seeded random walk over PartitionLog checked against a model (an array of batches): appends
 * of random sizes and timestamps (as leader, in growing leader epochs, and as follower, now and
 * then past a gap as a compacted leader's log has), truncateTo, deleteSegmentsBefore,
 * truncateFullyAndStartAt, clean reopens, fetch reads with random offsets and sizes, and
 * timestamp lookups, with small segments and random index intervals so that rolls and index
 * lookups happen all the time. The leader epoch cache must match a model cache fed the same
 * operations after every step, reopens included.
 * Replay a failure with STORAGE_MODEL_SEED=<seed>.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64, stampBatch } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LeaderEpochCache } from '../../src/storage/leader-epoch-cache.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { seededRandom } from '../support/seeded-random.js'

const SEED = Number(process.env.STORAGE_MODEL_SEED ?? Date.now() % 1_000_000)
const STEPS = 400

interface ModelBatch {
  base: number
  last: number
  bytes: Buffer
  maxTimestamp: number
  epoch: number
}

class Model {
  batches: ModelBatch[] = []
  logStartOffset = 0
  /** The log end with no batch (where truncateFullyAndStartAt restarted the log). */
  emptyEnd = 0
  /** The current leader epoch, and the epoch cache as the operations should leave it. */
  epoch = 0
  readonly epochs = new LeaderEpochCache()
  get logEndOffset (): number { return (this.batches.at(-1)?.last ?? this.emptyEnd - 1) + 1 }
  holding (offset: number): number { return this.batches.findIndex(batch => batch.last >= offset) }
}

describe(`PartitionLog against a model (STORAGE_MODEL_SEED=${SEED})`, () => {
  it('agrees with the model after every step of a seeded random walk', async () => {
    const random = seededRandom(SEED)
    const pick = (n: number): number => Math.floor(random() * n)
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-model-'))
    // Segments hold at least the largest batch appendRandom builds (about 5 KB): a larger batch
    // is RECORD_LIST_TOO_LARGE, as in Kafka, rather than a segment of its own.
    const config = { segmentBytes: 5120 + pick(6144), indexIntervalBytes: 1 + pick(2048) }
    const open = (): Promise<LogManager> => LogManager.open({ dataDir, nodeId: 1,
      defaultConfig: config })
    let manager = await open()
    let log: PartitionLog = await manager.getOrCreateLog('m', 0)
    const model = new Model()
    try {
      for (let step = 0; step < STEPS; step++) {
        const roll = random()
        let where = `step ${step}`
        if (roll < 0.4) {
          await appendRandom(log, model, pick)
        } else if (roll < 0.53) {
          await appendRandom(log, model, pick, true)
        } else if (roll < 0.6) {
          const target = model.logStartOffset + pick(model.logEndOffset - model.logStartOffset + 1)
          where += ` (truncateTo ${target})`
          await log.truncateTo(target)
          // Kafka's truncateTo: a target at or past the log end changes nothing.
          const cuts = target < model.logEndOffset
          const kept = model.holding(target)
          if (kept >= 0) model.batches.splice(kept)
          model.logStartOffset = Math.min(model.logStartOffset, model.logEndOffset)
          if (cuts) model.epochs.truncateFromEnd(model.logEndOffset)
        } else if (roll < 0.65) {
          const target = model.logStartOffset + pick(model.logEndOffset - model.logStartOffset + 1)
          where += ` (deleteSegmentsBefore ${target})`
          await log.deleteSegmentsBefore(target)
          if (target > model.logStartOffset) model.epochs.truncateFromStart(target)
          model.logStartOffset = Math.max(model.logStartOffset, target)
        } else if (roll < 0.67) {
          const offset = model.logEndOffset + pick(50)
          where += ` (truncateFullyAndStartAt ${offset})`
          await log.truncateFullyAndStartAt(offset)
          model.batches = []
          model.logStartOffset = offset
          model.emptyEnd = offset
          model.epochs.clear()
        } else if (roll < 0.72) {
          where += ' (reopen)'
          await manager.close()
          manager = await open()
          // Loading drops an epoch that starts at the log end (no batch of it left), as Kafka's
          // LogLoader does; a new leader assigns it again.
          model.epochs.truncateFromEnd(model.logEndOffset)
          log = manager.getLog('m', 0) as PartitionLog
        } else if (roll < 0.92) {
          await checkRead(log, model, pick, where)
        } else {
          await checkTimestamp(log, model, pick, where)
        }
        assert.equal(log.logEndOffset, model.logEndOffset, `${where}: log end offset`)
        assert.equal(log.logStartOffset, model.logStartOffset, `${where}: log start offset`)
        assert.deepEqual(log.epochEntries, model.epochs.entries, `${where}: leader epochs`)
      }
    } finally {
      await manager.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

/** A batch appended as leader, or as follower (stamped as a leader did, maybe past a gap). */
async function appendRandom (log: PartitionLog, model: Model,
  pick: (n: number) => number, asFollower = false): Promise<void> {
  const count = 1 + pick(12)
  const timestamp = 1_000_000 + pick(100_000)
  if (pick(8) === 0) model.epoch += 1 + pick(2) // a new leader
  const bytes = buildRecordBatchSync(Array.from({ length: count }, (_, i) => ({
    value: Buffer.alloc(pick(400), i), timestamp: timestamp + i,
  })), { timestampMs: timestamp })
  const expected = Buffer.from(bytes)
  const maxTimestamp = timestamp + count - 1
  let base: number
  if (asFollower) {
    base = model.logEndOffset + (pick(4) === 0 ? 1 + pick(5) : 0)
    stampBatch(bytes, 0, base, model.epoch)
    const result = await log.appendAsFollower(bytes, { fetchOffset: model.logEndOffset })
    assert.deepEqual(result, { firstOffset: base, lastOffset: base + count - 1 })
  } else {
    const result = await log.append(bytes, { leaderEpoch: model.epoch, recordsCount: count,
      maxTimestamp })
    assert.equal(result.baseOffset, model.logEndOffset)
    base = result.baseOffset
  }
  stampBatch(expected, 0, base, model.epoch)
  model.batches.push({ base, last: base + count - 1, bytes: expected, maxTimestamp,
    epoch: model.epoch })
  model.epochs.assign(model.epoch, base)
}

async function checkRead (log: PartitionLog, model: Model, pick: (n: number) => number,
  where: string): Promise<void> {
  const offset = model.logStartOffset + pick(model.logEndOffset - model.logStartOffset + 1)
  const maxBytes = 1 + pick(6000)
  const { records } = await log.read(offset, maxBytes)
  const first = model.holding(offset)
  if (first < 0) {
    assert.equal(records.length, 0, `${where}: nothing at the log end`)
    return
  }
  const batches = splitBatches(records)
  assert.ok(batches.length > 0, `${where}: read at ${offset} returned nothing`)
  let total = 0
  batches.forEach(({ position, size }, i) => {
    const expected = model.batches[first + i]
    assert.ok(expected !== undefined, `${where}: no batch past the model's end`)
    assert.equal(readInt64(records, position), expected.base, `${where}: batch ${i} base`)
    assert.ok(records.subarray(position, position + size).equals(expected.bytes),
      `${where}: batch at ${expected.base} is byte-identical`)
    total += size
  })
  assert.equal(total, records.length, `${where}: whole batches only`)
  assert.ok(total <= maxBytes || batches.length === 1, `${where}: maxBytes respected`)
  await assert.rejects(log.read(model.logEndOffset + 1, 100), { kind: 'OFFSET_OUT_OF_RANGE' })
}

async function checkTimestamp (log: PartitionLog, model: Model, pick: (n: number) => number,
  where: string): Promise<void> {
  const target = 1_000_000 + pick(110_000)
  let expected: { offset: number, timestamp: number, leaderEpoch: number } | undefined
  for (const batch of model.batches) {
    if (batch.last < model.logStartOffset || batch.maxTimestamp < target) continue
    const baseTimestamp = batch.maxTimestamp - (batch.last - batch.base)
    for (let offset = Math.max(batch.base, model.logStartOffset); offset <= batch.last; offset++) {
      const timestamp = baseTimestamp + offset - batch.base
      if (timestamp >= target) {
        expected = { offset, timestamp, leaderEpoch: batch.epoch }
        break
      }
    }
    if (expected !== undefined) break
  }
  assert.deepEqual(await log.offsetForTimestamp(target), expected,
    `${where}: first offset with a timestamp ≥ ${target}`)
}
