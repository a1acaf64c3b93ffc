/**
 * The tail cache against the files, on real logs: the same seeded appends (small batches,
 * batches too large to cache, rolls) and truncations go to two log managers, one with a
 * tail cache of two rings shared by three partitions (so rings move between logs) and one
 * without; every read, at random offsets, byte budgets and upper bounds, must give the same
 * answer from both (the files' may stop early where a read-ahead chunk ends: then it is a
 * prefix of the cache's, which must itself be a valid answer). TAIL_SEED replays a run.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, it } from 'node:test'
import { lastOffsetOf, readInt64, writeInt64 } from '../../src/records/batch-header.js'
import { splitBatches } from '../../src/records/batch.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { TAIL_RING_BYTES, TailCache, TailCachePool } from '../../src/storage/tail-cache.js'
import { faultyDisk } from '../support/faulty-disk.js'
import { seededRandom } from '../support/seeded-random.js'

const SEED = Number(process.env.TAIL_SEED ?? Date.now() % 1_000_000)
const PARTITIONS = 3
const STEPS = 1500
const CONFIG = { segmentBytes: 512 * 1024, indexIntervalBytes: 4096 }

let cachedDir: string
let plainDir: string
before(async () => {
  cachedDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-tail-cached-'))
  plainDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-tail-plain-'))
})
after(async () => {
  await rm(cachedDir, { recursive: true, force: true })
  await rm(plainDir, { recursive: true, force: true })
})

function batch (random: () => number, n: number): { bytes: Buffer, records: number } {
  // Mostly small batches; now and then one too large for the cache.
  const large = random() < 0.03
  const records = 1 + Math.floor(random() * 20)
  const valueBytes = large ? 300 * 1024 / records : Math.floor(random() * 3000)
  const bytes = buildRecordBatchSync(Array.from({ length: records }, (_, i) => ({
    value: Buffer.alloc(valueBytes, (n + i) % 251),
  })), { timestampMs: 1_000_000 + n })
  return { bytes, records }
}

/**
 * The cached answer `cached` against the files' `files` for the same read. A file read may stop
 * early where its read-ahead chunk ends, so the files' answer must be a prefix of the cached
 * one (both empty, or starting at the same batch), and the cached one must itself be a valid
 * answer: whole batches as stored, consecutive from the one holding the fetch offset, none
 * based at or past the bound, within the byte budget unless it is one batch and minOneBatch.
 */
async function expectSameAnswer (cached: Buffer, files: Buffer, log: PartitionLog,
  read: { fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean },
  where: string): Promise<void> {
  assert.ok(cached.length >= files.length && cached.subarray(0, files.length).equals(files),
    `${where}: the files' ${files.length} B are not a prefix of the cache's ${cached.length} B`)
  assert.ok(files.length > 0 || cached.length === 0,
    `${where}: the cache gave ${cached.length} B where the files gave none`)
  const batches = splitBatches(cached)
  assert.equal(batches.reduce((sum, batch) => sum + batch.size, 0), cached.length,
    `${where}: whole batches`)
  let expected: number | undefined
  for (const [i, { position, size }] of batches.entries()) {
    const base = readInt64(cached, position)
    const next = lastOffsetOf(cached, position) + 1
    // Offsets here are contiguous (nothing is compacted), so a batch holds the fetch offset.
    if (i === 0) {
      assert.ok(base <= read.fetchOffset && read.fetchOffset < next,
        `${where}: the first batch [${base}, ${next}) holds the fetch offset`)
    } else {
      assert.equal(base, expected, `${where}: batch ${i} follows the one before`)
    }
    assert.ok(base < read.maxOffset, `${where}: batch ${i} at ${base} is past the bound`)
    const stored = (await log.read(base, 1)).records
    assert.ok(cached.subarray(position, position + size).equals(stored.subarray(0, size)),
      `${where}: batch ${i} at ${base} differs from the stored one`)
    expected = next
  }
  if (batches.length > 1 || !read.minOneBatch) {
    assert.ok(cached.length <= read.maxBytes, `${where}: ${cached.length} B over the budget`)
  }
}

it(`serves tail reads byte-identical to the files (TAIL_SEED=${SEED})`, async () => {
  console.log(`tail cache: TAIL_SEED=${SEED}`)
  const random = seededRandom(SEED)
  const cached = await LogManager.open({ dataDir: cachedDir, nodeId: 1, defaultConfig: CONFIG,
    tailCacheBytes: 2 * TAIL_RING_BYTES })
  const plain = await LogManager.open({ dataDir: plainDir, nodeId: 1, defaultConfig: CONFIG })
  try {
    const pairs: Array<[PartitionLog, PartitionLog]> = []
    for (let p = 0; p < PARTITIONS; p++) {
      pairs.push([await cached.getOrCreateLog('t', p), await plain.getOrCreateLog('t', p)])
    }
    let reads = 0
    for (let step = 0; step < STEPS; step++) {
      const [withCache, withoutCache] = pairs[Math.floor(random() * PARTITIONS)] as
        [PartitionLog, PartitionLog]
      const action = random()
      if (action < 0.45) {
        const { bytes, records } = batch(random, step)
        const options = { leaderEpoch: 0, recordsCount: records, maxTimestamp: 1_000_000 + step }
        const [a, b] = await Promise.all([withCache.append(bytes, options),
          withoutCache.append(bytes, options)])
        assert.equal(a.baseOffset, b.baseOffset)
      } else if (action < 0.47 && withCache.logEndOffset > 0) {
        const offset = Math.floor(random() * withCache.logEndOffset)
        await Promise.all([withCache.truncateTo(offset), withoutCache.truncateTo(offset)])
        assert.equal(withCache.logEndOffset, withoutCache.logEndOffset)
      } else {
        const end = withCache.logEndOffset
        // Mostly near the tail, where the cache answers; sometimes anywhere.
        const fetchOffset = random() < 0.8
          ? Math.max(0, end - Math.floor(random() * 40))
          : Math.floor(random() * (end + 1))
        const maxBytes = random() < 0.2 ? 0 : Math.floor(random() * 200_000)
        const maxOffset = random() < 0.5 ? undefined : fetchOffset + Math.floor(random() * 60)
        const minOneBatch = random() < 0.8
        const options = { ...maxOffset === undefined ? {} : { maxOffset }, minOneBatch }
        const [a, b] = await Promise.all([withCache.read(fetchOffset, maxBytes, options),
          withoutCache.read(fetchOffset, maxBytes, options)])
        const where = `step ${step}: read at ${fetchOffset} (max ${maxBytes} B, below ` +
          `${maxOffset}, minOneBatch ${String(minOneBatch)}) (TAIL_SEED=${SEED})`
        await expectSameAnswer(a.records, b.records, withoutCache,
          { fetchOffset, maxBytes, maxOffset: maxOffset ?? end, minOneBatch }, where)
        reads++
      }
    }
    const { hits, misses } = cached.tailCacheStats
    console.log(`tail cache: ${reads} reads compared, ${hits} from the cache, ${misses} not`)
    // About a third in practice (two rings for three partitions, truncations, large batches).
    assert.ok(hits > reads / 8, `the cache answered ${hits} of ${reads} reads`)
    assert.ok(misses > 0, 'some reads reached back past the cache')
  } finally {
    await cached.close()
    await plain.close()
  }
})

/** A 100-byte stand-in for a batch: only its base offset (the first 8 bytes) is read. */
function batchAt (baseOffset: number): Buffer {
  const bytes = Buffer.alloc(100, 1)
  writeInt64(bytes, 0, baseOffset)
  return bytes
}

it('gives rings to the most recently written logs, and none to a closed one', () => {
  const pool = new TailCachePool(TAIL_RING_BYTES)
  const [a, b] = [new TailCache(pool), new TailCache(pool)]
  for (const cache of [a, b]) assert.equal(cache.read(0, 1000, 10, true, 0), undefined, 'unread')
  a.add(batchAt(0), 0, 1)
  assert.equal(a.read(0, 1000, 10, true, 1)?.length, 100, 'a holds the one ring')
  b.add(batchAt(0), 0, 1)
  assert.equal(a.read(0, 1000, 10, true, 1), undefined, 'b took it: a reads its files')
  assert.equal(b.read(0, 1000, 10, true, 1)?.length, 100)
  assert.equal(pool.bytesAllocated, TAIL_RING_BYTES, 'one ring, moved')
  b.close()
  b.add(batchAt(1), 0, 2)
  assert.equal(b.read(1, 1000, 10, true, 2), undefined, 'a closed log takes no ring again')
  a.add(batchAt(1), 0, 2)
  assert.equal(a.read(1, 1000, 10, true, 2)?.length, 100, 'the released ring went back to a')
  const none = new TailCache(new TailCachePool(0))
  none.read(0, 1000, 10, true, 0)
  none.add(batchAt(0), 0, 1)
  assert.equal(none.read(0, 1000, 10, true, 1), undefined, 'tributary.log.tail.cache.bytes=0')
})

it('answers only while it ends at the written end, and drops what a lower write replaces', () => {
  const cache = new TailCache(new TailCachePool(TAIL_RING_BYTES))
  cache.read(0, 0, 0, true, 0)
  for (let offset = 0; offset < 3; offset++) cache.add(batchAt(offset), 0, offset + 1)
  assert.equal(cache.read(1, 1000, 3, true, 3)?.length, 200, 'offsets 1 and 2')
  assert.equal(cache.read(1, 1000, 3, true, 2), undefined, 'the log was cut to 2 meanwhile')
  // The log, cut to 1, writes offset 1 again: the old offsets 1 and 2 must not come back.
  cache.add(batchAt(1), 0, 2)
  assert.equal(cache.read(0, 1000, 2, true, 2), undefined, 'offset 0 went with the stale entries')
  assert.equal(cache.read(1, 1000, 2, true, 2)?.length, 100, 'only the new offset 1')
})

it('serves the same bytes as the files after a failed fsync cut the log and it wrote again',
  async () => {
    const faults = faultyDisk()
    const cached = await LogManager.open({ dataDir: path.join(cachedDir, 'cut'), nodeId: 1,
      defaultConfig: CONFIG, disk: faults.disk, tailCacheBytes: TAIL_RING_BYTES })
    try {
      const log = await cached.getOrCreateLog('t', 0)
      await log.read(0, 1)
      const append = async (fill: number): Promise<number> => (await log.append(
        buildRecordBatchSync([{ value: Buffer.alloc(50, fill) }], { timestampMs: 1 }),
        { leaderEpoch: 0, recordsCount: 1, maxTimestamp: 1 })).baseOffset
      for (let i = 0; i < 3; i++) await append(1)
      faults.failSyncs = 1
      await assert.rejects(append(2), 'the fsync fails: the batch at 3 is cut')
      await log.roundIdle()
      // The cut's truncation runs after the failure; an append waits for it.
      assert.equal(await append(3), 3, 'offset 3 is written again, with other bytes')
      const hitsBefore = cached.tailCacheStats.hits
      const { records } = await log.read(3, 1000)
      assert.equal(cached.tailCacheStats.hits, hitsBefore + 1, 'the cache answered')
      const stored = (await readFile(path.join(cachedDir, 'cut', 't-0',
        '00000000000000000000.log'))).subarray(-records.length)
      assert.ok(records.equals(stored), 'the batch at 3 as the file holds it')
      assert.ok(records.includes(Buffer.alloc(50, 3)) && !records.includes(Buffer.alloc(50, 2)),
        'the new batch at 3, not the cut one')
    } finally {
      await cached.close()
    }
  })
