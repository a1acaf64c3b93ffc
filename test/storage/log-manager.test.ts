/**
 * LogManager on real directories: the data-directory lock, meta.properties, topic configs and
 * checkpoints.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { nodeDisk } from '../../src/io/disk.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { writeAtomic } from '../../src/storage/checkpoint.js'
import { LogDirLockedError, LogManager } from '../../src/storage/log-manager.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-manager-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

function batch (): Buffer {
  return buildRecordBatchSync(Array.from({ length: 10 }, () => ({ value: Buffer.alloc(100) })),
    { timestampMs: 1000 })
}

describe('LogManager', () => {
  it('refuses a second manager on the same directory with a clear message', async () => {
    const first = await LogManager.open({ dataDir, nodeId: 1 })
    await assert.rejects(LogManager.open({ dataDir, nodeId: 1 }), (error: unknown) => {
      assert.ok(error instanceof LogDirLockedError)
      assert.match(error.message, /^another broker holds the lock on \S+ \(pid \d+\)$/)
      return true
    })
    await first.close()
    const second = await LogManager.open({ dataDir, nodeId: 1 })
    await second.close()
  })

  it('takes over a lock whose owner died, or whose owner pid is its own from a past life',
    async () => {
      const dead = spawnSync(process.execPath, ['-e', '0']).pid
      assert.ok(dead !== undefined)
      for (const owner of [dead, process.pid]) {
        await mkdir(path.join(dataDir, '.lock'), { recursive: true })
        await writeFile(path.join(dataDir, '.lock.owner'), String(owner))
        const manager = await LogManager.open({ dataDir, nodeId: 1 })
        await manager.close()
      }
    })

  it('refuses a data directory that belongs to another node id', async () => {
    const first = await LogManager.open({ dataDir, nodeId: 1 })
    const clusterId = first.clusterId
    await first.close()
    await assert.rejects(LogManager.open({ dataDir, nodeId: 2 }), /belongs to node 1/)
    const again = await LogManager.open({ dataDir, nodeId: 1 })
    assert.equal(again.clusterId, clusterId, 'the cluster id is kept in meta.properties')
    await again.close()
  })

  it('applies topic configs over the defaults', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1,
      defaultConfig: { segmentBytes: 1 << 20 },
      topicConfigs: topic => topic === 'small' ? { segmentBytes: 4096 } : {} })
    const small = await manager.getOrCreateLog('small', 0)
    const large = await manager.getOrCreateLog('large', 0)
    for (let n = 0; n < 10; n++) {
      await small.append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
      await large.append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
    }
    assert.equal(small.config.segmentBytes, 4096)
    assert.ok(small.segmentCount >= 3, `${small.segmentCount} segments`)
    assert.equal(large.segmentCount, 1)
    await manager.close()
  })

  it('writes recovery-point and log-start checkpoints and a clean-shutdown marker', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1 })
    const log = await manager.getOrCreateLog('t', 3)
    for (let n = 0; n < 3; n++) {
      await log.append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
    }
    await log.deleteSegmentsBefore(10)
    await manager.writeAtomic('producer-id-block', 'next=1000')
    await manager.close()
    const text = async (name: string): Promise<string> =>
      (await readFile(path.join(dataDir, name))).toString()
    assert.equal(await text('recovery-point-offset-checkpoint'), '0\n1\nt 3 30\n')
    assert.equal(await text('log-start-offset-checkpoint'), '0\n1\nt 3 10\n')
    assert.match(await text('.kafka_cleanshutdown'), /"version":0/)
    const reopened = await LogManager.open({ dataDir, nodeId: 1 })
    assert.equal((await reopened.readSmallFile('producer-id-block'))?.toString(), 'next=1000')
    assert.equal(await reopened.readSmallFile('missing'), undefined)
    assert.equal(reopened.getLog('t', 3)?.logStartOffset, 10)
    await reopened.close()
  })

  it('opens one PartitionLog per partition however many callers create it at once', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1 })
    // Before single-flight, each call saw no log, opened its own, and the last one won the
    // map while appends to the others went to an orphan that overwrote the same files.
    const logs = await Promise.all(Array.from({ length: 5 }, () => manager.getOrCreateLog('t', 0)))
    for (const log of logs) assert.equal(log, logs[0], 'one PartitionLog for t-0')
    for (const log of logs) {
      await log.append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
    }
    assert.equal(manager.getLog('t', 0)?.logEndOffset, 50)
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1 })
    assert.equal(reopened.getLog('t', 0)?.logEndOffset, 50, 'every append is on disk')
    await reopened.close()
  })

  it('keeps the metadata log out of the topic logs, in metadata/', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1 })
    const [metadata, again] = await Promise.all([manager.openMetadataLog(),
      manager.openMetadataLog()])
    assert.equal(again, metadata, 'opened once, however many ask at once')
    assert.equal(await manager.openMetadataLog(), metadata)
    assert.equal(metadata.directory, path.join(dataDir, 'metadata', '__cluster_metadata-0'))
    await metadata.append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
    assert.equal(manager.getLog('__cluster_metadata', 0), undefined)
    assert.deepEqual([...manager.logs()], [])
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1 })
    assert.deepEqual([...reopened.logs()], [], 'the directory scan does not load it as a topic')
    assert.equal((await reopened.openMetadataLog()).logEndOffset, 10)
    await reopened.close()
  })

  it('moves a metadata log from the old layout into metadata/ before loading topics',
    async () => {
      const old = await LogManager.open({ dataDir, nodeId: 1 })
      // The old layout: the metadata log was the topic log __cluster_metadata-0.
      const legacy = await old.getOrCreateLog('__cluster_metadata', 0)
      await legacy.append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
      await (await old.getOrCreateLog('t', 0))
        .append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
      await old.close()
      const manager = await LogManager.open({ dataDir, nodeId: 1 })
      assert.deepEqual([...manager.logs()].map(log => log.topic), ['t'])
      assert.equal((await manager.openMetadataLog()).logEndOffset, 10, 'its records came along')
      assert.deepEqual((await readdir(dataDir)).filter(name => name.includes('cluster')), [])
      await manager.close()
    })

  it('sets a log aside as -stray without deleting it', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1 })
    await (await manager.getOrCreateLog('ghost', 0))
      .append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
    const setAside = await manager.setAsideLog('ghost', 0)
    assert.match(path.basename(setAside ?? ''), /^ghost-0\.[0-9a-f]{8}-stray$/)
    assert.equal(manager.getLog('ghost', 0), undefined)
    assert.ok((await readdir(setAside ?? '')).some(name => name.endsWith('.log')))
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1 })
    assert.deepEqual([...reopened.logs()], [], 'a stray directory is not loaded again')
    await reopened.close()
  })
})

describe('writeAtomic', () => {
  it('serializes concurrent writers of one file: all succeed and the last one wins', async () => {
    // Before, every writer used `<file>.tmp`: one truncated or renamed away another's temp file
    // (ENOENT on rename, or torn contents under the real name).
    const file = path.join(dataDir, 'recovery-point-offset-checkpoint')
    const contents = Array.from({ length: 20 }, (_, n) => `0\n1\nt 0 ${n}\n`.repeat(n + 1))
    await Promise.all(contents.map(text => writeAtomic(nodeDisk, file, text)))
    assert.equal((await readFile(file)).toString(), contents.at(-1))
    assert.deepEqual((await readdir(dataDir)).filter(name => name.endsWith('.tmp')), [])
  })

  it('writes checkpoints from concurrent callers without failing', async () => {
    const manager = await LogManager.open({ dataDir, nodeId: 1 })
    const log = await manager.getOrCreateLog('t', 0)
    await log.append(batch(), { leaderEpoch: 0, recordsCount: 10, maxTimestamp: 1000 })
    await Promise.all(Array.from({ length: 10 }, () => manager.writeCheckpoints()))
    assert.equal((await readFile(path.join(dataDir, 'recovery-point-offset-checkpoint')))
      .toString(), '0\n1\nt 0 10\n')
    await manager.close()
  })
})
