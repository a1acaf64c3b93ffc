/**
 * Segment indexes on real files: an index that passes Kafka's sanity check but points at the
 * wrong bytes is caught (at load, or by the reader) and never makes a read return garbage.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { nodeDisk, type Disk } from '../../src/io/disk.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-segment-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

/** One index entry per batch, all in one segment. */
const CONFIG = { segmentBytes: 1 << 20, indexIntervalBytes: 1 }
const BATCHES = 70

async function writeLog (): Promise<Buffer[]> {
  const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
  const log = await manager.getOrCreateLog('t', 0)
  const stored: Buffer[] = []
  for (let n = 0; n < BATCHES; n++) {
    const bytes = buildRecordBatchSync(Array.from({ length: 5 }, (_, i) => ({
      value: Buffer.alloc(40 + i, n),
    })), { timestampMs: 1000 + n })
    await log.append(bytes, { leaderEpoch: 0, recordsCount: 5, maxTimestamp: 1000 + n })
    stored.push(bytes)
  }
  await manager.close()
  return stored
}

async function indexPath (): Promise<string> {
  const directory = path.join(dataDir, 't-0')
  const name = (await readdir(directory)).find(file => file.endsWith('.index'))
  assert.ok(name !== undefined)
  return path.join(directory, name)
}

async function expectEveryOffset (log: PartitionLog, stored: Buffer[]): Promise<void> {
  for (let n = 0; n < BATCHES; n++) {
    const { records } = await log.read(n * 5 + 2, 1)
    assert.equal(splitBatches(records).length, 1)
    assert.equal(readInt64(records, 0), n * 5, `the batch holding offset ${n * 5 + 2}`)
    assert.ok(records.equals(stored[n] as Buffer), `batch ${n} is byte-identical`)
  }
}

/** Writes `corrupt` over the time index, reopens, and expects the log to have rebuilt it. */
async function expectTimeIndexRebuilt (file: string, corrupt: Buffer, original: Buffer,
  stored: Buffer[]): Promise<void> {
  await writeFile(file, corrupt)
  const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
  const log = manager.getLog('t', 0) as PartitionLog
  assert.equal((await log.offsetForTimestamp(1000 + 40))?.offset, 40 * 5)
  await expectEveryOffset(log, stored)
  await manager.close()
  assert.ok((await readFile(file)).equals(original), 'the rebuilt time index was written back')
}

describe('LogSegment indexes', () => {
  it('rebuilds a shifted index that keeps whole, increasing entries', async () => {
    const stored = await writeLog()
    const file = await indexPath()
    const index = await readFile(file)
    const original = Buffer.from(index)
    assert.equal(index.length, BATCHES * 8, 'one entry per batch at index.interval.bytes=1')
    for (let at = 0; at < index.length; at += 8) {
      index.writeInt32BE(index.readInt32BE(at + 4) + 5, at + 4)
    }
    await writeFile(file, index)
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    await expectEveryOffset(manager.getLog('t', 0) as PartitionLog, stored)
    await manager.close()
    assert.ok((await readFile(file)).equals(original), 'the rebuilt index was written back')
  })

  it('stops trusting an index entry the load-time sample missed', async () => {
    const stored = await writeLog()
    const file = await indexPath()
    const index = await readFile(file)
    const original = Buffer.from(index)
    // 70 entries: the sample checks every second one, so corrupt an odd entry.
    const at = 33 * 8
    index.writeInt32BE(index.readInt32BE(at + 4) + 3, at + 4)
    await writeFile(file, index)
    const warnings: string[] = []
    const logger = { info: () => undefined, warn: (message: string) => warnings.push(message) }
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG, logger })
    const log = manager.getLog('t', 0) as PartitionLog
    await expectEveryOffset(log, stored)
    await manager.close()
    // Entry 33 now points 3 bytes into a batch, where the "base offset" read is far outside
    // the segment: the reader notices, scans without the index and writes it back empty.
    assert.equal(warnings.length, 1, warnings.join('\n'))
    assert.match(warnings[0] as string, /not a batch start/)
    assert.equal((await readFile(file)).length, 0)
    const reopened = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG })
    await expectEveryOffset(reopened.getLog('t', 0) as PartitionLog, stored)
    await reopened.close()
    assert.ok((await readFile(file)).equals(original), 'the next start rebuilt the index')
  })

  it('rebuilds a time index whose timestamps increase but whose entries do not fit the log',
    async () => {
      const stored = await writeLog()
      const file = (await indexPath()).replace(/\.index$/, '.timeindex')
      const original = await readFile(file)
      assert.equal(original.length, BATCHES * 12, 'one time entry per batch')
      const outside = Buffer.from(original)
      outside.writeInt32BE(1504238517, 8) // entry 0's offset, far past the segment's end
      const wrongMaximum = Buffer.from(original)
      // The last entry claims a later maximum than its batch has; timestamps still increase.
      wrongMaximum.writeUInt32BE(0x48000000, wrongMaximum.length - 12)
      for (const corrupt of [outside, wrongMaximum]) {
        await expectTimeIndexRebuilt(file, corrupt, original, stored)
      }
    })

  it('does not rewrite unchanged indexes at a clean shutdown', async () => {
    await writeLog()
    const rewritten: string[] = []
    const disk: Disk = {
      ...nodeDisk,
      open: async (file, mode) => {
        if (mode === 'replace' && /index$/.test(file)) rewritten.push(path.basename(file))
        return nodeDisk.open(file, mode)
      },
    }
    const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG, disk })
    await manager.close()
    assert.deepEqual(rewritten, [], 'loaded indexes were already on disk, fsynced')
    const again = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: CONFIG, disk })
    const log = again.getLog('t', 0) as PartitionLog
    await log.append(buildRecordBatchSync([{ value: 'one more' }], { timestampMs: 5000 }),
      { leaderEpoch: 0, recordsCount: 1, maxTimestamp: 5000 })
    await again.close()
    assert.deepEqual(rewritten.sort(),
      ['00000000000000000000.index', '00000000000000000000.timeindex'])
  })

  it('rebuilds an empty time index beside a non-empty log (its write was cut short)',
    async () => {
      const stored = await writeLog()
      const file = (await indexPath()).replace(/\.index$/, '.timeindex')
      await expectTimeIndexRebuilt(file, Buffer.alloc(0), await readFile(file), stored)
    })

  it('keeps the recovery point at a rolled segment until its indexes are fsynced', async () => {
    let releaseIndexWrites: () => void = () => undefined
    const held = new Promise<void>(resolve => { releaseIndexWrites = resolve })
    const disk: Disk = {
      ...nodeDisk,
      open: async (file, mode) => {
        if (mode === 'replace' && /index$/.test(file)) await held
        return nodeDisk.open(file, mode)
      },
    }
    const manager = await LogManager.open({ dataDir, nodeId: 1, disk,
      defaultConfig: { segmentBytes: 4096, indexIntervalBytes: 1 } })
    const log = await manager.getOrCreateLog('t', 0)
    for (let n = 0; n < 12; n++) {
      await log.append(buildRecordBatchSync([{ value: Buffer.alloc(1000, n) }],
        { timestampMs: 1000 + n }), { leaderEpoch: 0, recordsCount: 1, maxTimestamp: 1000 + n })
    }
    const bases = log.segmentBaseOffsets
    assert.ok(bases.length >= 3, `rolled twice (segments at ${bases.join(', ')})`)
    assert.equal(log.durableEndOffset, 12)
    assert.equal(log.recoveryPoint, bases[0], 'the first rolled segment has no index files yet')
    releaseIndexWrites()
    await manager.close()
    assert.equal(log.recoveryPoint, log.durableEndOffset, 'every index fsynced at the close')
  })
})
