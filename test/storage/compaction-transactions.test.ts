/**
 * Compaction of transactional data (issue #17, Kafka's CleanedTransactionMetadata), on real
 * files with a manual clock: the records of an aborted transaction are removed (and never
 * supersede a committed value of the same key), committed records are compacted like any
 * other, a COMMIT marker goes only once no record of its transaction is left and a cleaning
 * reached it delete.retention.ms ago, an ABORT marker goes (with its `.txnindex` entry) once
 * an earlier cleaning removed its records and delete.retention.ms has passed, but stays while
 * a batch of its transaction must stay for producer state, and the cleaner never passes the
 * last stable offset (an open transaction's records and everything after them stay as
 * written). A read_committed and a read_uncommitted reader see the same committed values
 * across the cleanings and a restart, and the directory passes the strict on-disk validator
 * and the `.txnindex` check (every entry has its marker in its segment). The producer
 * snapshots that showed a removed marker's transaction open are gone, so a replay from the
 * oldest snapshot left ends every transaction; a crash at each step of a swap comes back with
 * the old segments and `.txnindex` files or the new ones.
 */
import assert from 'node:assert/strict'
import { copyFile, cp, mkdtemp, readdir, rename, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { withoutAbortedBatches } from '../../src/records/aborted-transactions.js'
import { isControlBatch, readBatchHeader } from '../../src/records/batch-header.js'
import { decodeRecordBatch, iterateRecords } from '../../src/records/batch.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import {
  buildControlBatch, CONTROL_TYPE_COMMIT, controlTypeOf,
} from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { rawBatches } from '../support/raw-batches.js'
import { ManualClock } from '../support/manual-clock.js'
import { validatePartitionDir } from '../support/segment-validator.js'
import { checkTxnIndexes } from '../support/txn-index-check.js'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-txclean-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const COMPACT = {
  segmentBytes: 2048, cleanupPolicy: ['compact'] as const, minCleanableDirtyRatio: 0,
  deleteRetentionMs: 60_000, fileDeleteDelayMs: 1000,
}

const sequences = new Map<number, number>()

async function put (log: PartitionLog, clock: ManualClock, entries: [string, string][],
  producerId?: number): Promise<number> {
  const transactional = producerId !== undefined
  const producer = transactional
    ? { producerId, producerEpoch: 0, baseSequence: sequences.get(producerId) ?? 0 }
    : {}
  if (transactional) sequences.set(producerId, (sequences.get(producerId) ?? 0) + entries.length)
  const batch = buildRecordBatchSync(entries.map(([key, value]) => ({ key, value,
    timestamp: clock.nowMs() })), { timestampMs: clock.nowMs(), transactional, ...producer })
  const result = await log.append(batch, { leaderEpoch: 0, recordsCount: entries.length,
    maxTimestamp: clock.nowMs(), ...producer, isTransactional: transactional })
  return result.baseOffset
}

async function marker (log: PartitionLog, clock: ManualClock, producerId: number,
  commit: boolean): Promise<number> {
  const batch = buildControlBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 1,
    timestampMs: clock.nowMs() })
  const result = await log.append(batch, { leaderEpoch: 0, recordsCount: 1,
    maxTimestamp: clock.nowMs(), producerId, producerEpoch: 0, baseSequence: -1,
    isTransactional: true, abortMarker: !commit })
  return result.baseOffset
}

async function fill (log: PartitionLog, clock: ManualClock, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await put(log, clock, [0, 1, 2, 3, 4].map(key => [`k${key}`, `v${round}-${key}`]))
    clock.advance(10)
  }
}


interface Entry { offset: number, key: string, value: string }

/** What a reader at `isolation` sees below `end`: records only, in offset order. */
async function readerView (log: PartitionLog, readCommitted: boolean,
  end = log.lastStableOffset): Promise<Entry[]> {
  const raw = Buffer.concat(await rawBatches(log, end))
  const aborted = readCommitted ? await log.abortedTransactions(log.logStartOffset, end) : []
  const entries: Entry[] = []
  for await (const record of iterateRecords(withoutAbortedBatches(raw, aborted).records)) {
    entries.push({ offset: record.offset, key: record.key?.toString() ?? '',
      value: record.value?.toString() ?? '' })
  }
  return entries
}

function latest (entries: Entry[]): Map<string, string> {
  return new Map(entries.map(entry => [entry.key, entry.value]))
}

/** The markers left: `<producerId>:<COMMIT|ABORT>@offset`. */
async function markers (log: PartitionLog): Promise<string[]> {
  const found: string[] = []
  for (const batch of await rawBatches(log)) {
    const header = readBatchHeader(batch)
    if (!isControlBatch(header.attributes)) continue
    const { records } = await decodeRecordBatch(batch)
    const type = controlTypeOf(records[0]?.key ?? null) === CONTROL_TYPE_COMMIT ? 'COMMIT' : 'ABORT'
    found.push(`${header.producerId}:${type}@${header.baseOffset}`)
  }
  return found
}

describe('compaction of transactional data', () => {
  it('removes aborted records, keeps committed ones, stops at the LSO, and removes a COMMIT ' +
    'marker only once its data is gone and delete.retention.ms has passed', async () => {
    const clock = new ManualClock()
    const warnings: string[] = []
    // The background loop off: it would race this test's own cleanOnce calls when the
    // manual clock jumps past log.cleaner.backoff.ms.
    const manager = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT,
      cleaner: { enable: false },
      logger: { info: () => undefined, warn: message => { warnings.push(message) } } })
    const log = await manager.getOrCreateLog('t', 0)
    await fill(log, clock, 5)
    await put(log, clock, [['k9', 'committed-before']])
    await put(log, clock, [['k0', 'c7']], 7) // superseded later by the fills
    const commit7 = await marker(log, clock, 7, true)
    // Five more of producer 7, so that idempotence no longer needs the first one's batch
    // (emptied batches a producer still needs stay, and so do their markers).
    for (let i = 0; i < 5; i++) {
      await put(log, clock, [['k1', `c7-${i}`]], 7)
      await marker(log, clock, 7, true)
    }
    await put(log, clock, [['solo', 'c10']], 10) // never superseded
    const commit10 = await marker(log, clock, 10, true)
    await put(log, clock, [['k9', 'a8'], ['ghost', 'a8']], 8)
    const abort8 = await marker(log, clock, 8, false)
    await fill(log, clock, 20)
    const openAt = await put(log, clock, [['k0', 'open']], 9)
    await fill(log, clock, 20)
    assert.equal(log.lastStableOffset, openAt, 'the open transaction holds the LSO')

    const uncommittedBefore = await readerView(log, false)
    const committedBefore = await readerView(log, true)
    assert.ok(uncommittedBefore.some(entry => entry.value === 'a8'), 'aborted data is there')
    assert.ok(!committedBefore.some(entry => entry.value === 'a8'))
    const pastLso = await rawBatches(log).then(batches => batches.filter(batch =>
      readBatchHeader(batch).baseOffset >= openAt).map(batch => batch.toString('hex')))

    const first = await manager.cleaner.cleanOnce()
    assert.ok(first !== undefined && first.result.recordsRemoved > 0, 'cleaned')
    assert.ok(first.result.cleanedTo <= openAt, 'the cleaner stopped at the LSO')
    const afterPast = (await rawBatches(log)).filter(batch =>
      readBatchHeader(batch).baseOffset >= openAt).map(batch => batch.toString('hex'))
    assert.deepEqual(afterPast, pastLso, 'nothing at or after the LSO was touched')

    const uncommitted = await readerView(log, false)
    const committed = await readerView(log, true)
    assert.ok(!uncommitted.some(entry => entry.value === 'a8'), 'aborted records removed')
    assert.equal(latest(committed).get('k9'), 'committed-before',
      'an aborted value never superseded the committed one')
    assert.equal(latest(committed).get('solo'), 'c10', 'committed records kept')
    assert.ok(!committed.some(entry => entry.value === 'c7'), 'superseded committed record gone')
    assert.deepEqual(latest(committed), latest(committedBefore),
      'a read_committed reader sees the same values across the cleaning')
    assert.deepEqual(latest(uncommitted), latest(committed),
      'a read_uncommitted reader now sees only committed values below the LSO')
    const firstMarkers = await markers(log)
    for (const kept of [`7:COMMIT@${commit7}`, `10:COMMIT@${commit10}`, `8:ABORT@${abort8}`]) {
      assert.ok(firstMarkers.includes(kept),
        `${kept} stays until a cleaning reached it delete.retention.ms ago`)
    }
    assert.equal(firstMarkers.length, 8, 'no marker went in the first cleaning')

    // End the open transaction, let delete.retention.ms pass, clean again.
    await marker(log, clock, 9, true)
    clock.advance(60_000)
    await fill(log, clock, 20)
    const second = await manager.cleaner.cleanOnce()
    assert.ok(second !== undefined, warnings.join('\n'))
    const left = await markers(log)
    assert.ok(!left.includes(`7:COMMIT@${commit7}`), 'a COMMIT marker with no data left goes')
    assert.ok(left.includes(`10:COMMIT@${commit10}`), 'a COMMIT marker whose data stays stays')
    assert.ok(left.includes(`8:ABORT@${abort8}`),
      'an ABORT marker stays while its emptied batch is producer 8\'s last (idempotence)')
    assert.equal(latest(await readerView(log, true)).get('solo'), 'c10')
    assert.equal(latest(await readerView(log, true)).get('k9'), 'committed-before')

    const endBefore = log.logEndOffset
    const view = await readerView(log, true)
    await manager.close()
    const reopened = await LogManager.open({ dataDir, nodeId: 1, clock, defaultConfig: COMPACT,
      cleaner: { enable: false } })
    const again = reopened.getLog('t', 0) as PartitionLog
    assert.equal(again.logEndOffset, endBefore)
    assert.equal(again.lastStableOffset, endBefore, 'no transaction is open after a restart')
    assert.deepEqual(await readerView(again, true), view, 'the same after a restart')
    await reopened.close()
    const validation = await validatePartitionDir(path.join(dataDir, 't-0'),
      { mode: 'strict', compacted: true })
    assert.deepEqual(validation.problems, [])
  })

  it('removes ABORT markers and their .txnindex entries once their records are gone and ' +
    'delete.retention.ms has passed, without hiding the same producers\' later commits',
  async () => {
    const clock = new ManualClock()
    const warnings: string[] = []
    const open = async (dir = dataDir): Promise<LogManager> => LogManager.open({ dataDir: dir,
      nodeId: 1, clock, defaultConfig: COMPACT, cleaner: { enable: false },
      logger: { info: () => undefined, warn: message => { warnings.push(message) } } })
    let manager = await open()
    const log = await manager.getOrCreateLog('t', 0)
    const expected = new Map<string, string>()
    const committed = async (producerId: number, entries: [string, string][]): Promise<void> => {
      await put(log, clock, entries, producerId)
      await marker(log, clock, producerId, true)
      for (const [key, value] of entries) expected.set(key, value)
    }
    const filled = async (rounds: number): Promise<void> => {
      await fill(log, clock, rounds)
      for (let key = 0; key < 5; key++) expected.set(`k${key}`, `v${rounds - 1}-${key}`)
    }
    await filled(3)
    // Interleaved: 20 and 21 both abort while 22 commits in between, on the same keys.
    const first20 = await put(log, clock, [['x1', 'aborted-20'], ['x2', 'aborted-20']], 20)
    await put(log, clock, [['x3', 'aborted-21']], 21)
    const first23 = await put(log, clock, [['x4', 'aborted-23']], 23)
    // Producer 24 commits a value that later records supersede, so its marker can go too.
    await put(log, clock, [['k0', 'c24']], 24)
    await committed(22, [['x1', 'committed-22']])
    await put(log, clock, [['x2', 'aborted-20b']], 20)
    // Segments roll inside both aborted transactions: their snapshots show them open.
    await filled(20)
    const abort20 = await marker(log, clock, 20, false)
    await filled(2)
    const abort21 = await marker(log, clock, 21, false)
    // (A plain record before these markers moves a segment roll off them: a marker that ends
    // its cleaned group stays as the group's last batch.)
    await put(log, clock, [['k1', 'between']])
    const abort23 = await marker(log, clock, 23, false)
    const commit24 = await marker(log, clock, 24, true)
    // Producers 23 and 24 write no marker after theirs: six idempotent batches outside any
    // transaction, so idempotence no longer needs the transaction's batch; a replay that
    // started inside the transaction would find nothing that ends it.
    for (const producerId of [23, 24]) {
      for (let i = 0; i < 6; i++) {
        const fields = { producerId, producerEpoch: 0, baseSequence: sequences.get(producerId) ?? 0 }
        sequences.set(producerId, fields.baseSequence + 1)
        await log.append(buildRecordBatchSync([{ key: `later${producerId}-${i}`, value: `${i}` }],
          { timestampMs: clock.nowMs(), ...fields }), { leaderEpoch: 0, recordsCount: 1,
          maxTimestamp: clock.nowMs(), ...fields })
        expected.set(`later${producerId}-${i}`, `${i}`)
      }
    }
    // Six committed transactions each afterwards: idempotence no longer needs the aborted
    // batches (it keeps a producer's last five), so nothing of the aborted ones must stay.
    for (let i = 0; i < 6; i++) {
      await committed(20, [[`after20-${i}`, `c20-${i}`]])
      await committed(21, [[`after21-${i}`, `c21-${i}`]])
    }
    await filled(20)
    const aborts = [`20:ABORT@${abort20}`, `21:ABORT@${abort21}`, `23:ABORT@${abort23}`]
    const going = [...aborts, `24:COMMIT@${commit24}`]

    const check = async (where: string, cleaned = true): Promise<void> => {
      const view = await readerView(log, true)
      assert.ok(!view.some(entry => entry.value.startsWith('aborted')),
        `${where}: read_committed sees no aborted record`)
      assert.deepEqual(latest(view), expected, `${where}: committed values`)
      const raw = await readerView(log, false)
      assert.equal(raw.some(entry => entry.value.startsWith('aborted')), !cleaned,
        `${where}: read_uncommitted sees aborted records only before cleaning`)
      const report = await checkTxnIndexes(path.join(dataDir, 't-0'))
      assert.deepEqual(report.problems, [], where)
    }
    await check('before cleaning', false)
    assert.deepEqual(latest(await readerView(log, true)).get('x1'), 'committed-22')

    const snapshots = async (): Promise<number[]> => (await readdir(path.join(dataDir, 't-0')))
      .filter(name => name.endsWith('.snapshot')).map(name => Number(name.slice(0, 20)))
    assert.ok((await snapshots()).some(offset => offset > first20 && offset <= abort20),
      'a segment rolled inside the aborted transaction')
    const first = await manager.cleaner.cleanOnce()
    assert.ok(first !== undefined && first.result.cleanedTo > abort21, 'the cleaning passed both')
    await check('after the first cleaning')
    assert.deepEqual(latest(await readerView(log, false)), expected,
      'read_uncommitted: the aborted records are gone')
    const kept = await markers(log)
    for (const abort of going) {
      assert.ok(kept.includes(abort), `${abort} stays in the cleaning that removes its records`)
    }
    const indexed = (await checkTxnIndexes(path.join(dataDir, 't-0'))).entries
    assert.deepEqual(indexed.map(entry => `${entry.producerId}@${entry.lastOffset}`),
      [`20@${abort20}`, `21@${abort21}`, `23@${abort23}`],
      'their .txnindex entries stay with them')

    // Before delete.retention.ms: a second cleaning keeps them.
    clock.advance(30_000)
    await filled(20)
    assert.ok(await manager.cleaner.cleanOnce() !== undefined, warnings.join('\n'))
    await check('after a cleaning within delete.retention.ms')
    for (const abort of going) assert.ok((await markers(log)).includes(abort), abort)

    clock.advance(60_000)
    await filled(20)
    const third = await manager.cleaner.cleanOnce()
    assert.ok(third !== undefined, warnings.join('\n'))
    await check('after a cleaning past delete.retention.ms')
    const left = await markers(log)
    for (const abort of going) assert.ok(!left.includes(abort), `${abort} is removed`)
    assert.ok(first20 < first23 && abort20 < commit24)
    assert.deepEqual((await snapshots()).filter(offset => offset > first20 && offset <= commit24),
      [], 'the snapshots that showed the removed transactions open are gone')
    // A crash now (no clean close, which drops the snapshots of replaced segments), and a
    // restart that replays from the oldest snapshots left (the newer ones lost): every
    // transaction still ends, as none of them shows a removed one open.
    const crashed = await mkdtemp(path.join(os.tmpdir(), 'tributary-txclean-crashed-'))
    try {
      await cp(dataDir, crashed, { recursive: true })
      for (const name of await readdir(path.join(crashed, 't-0'))) {
        if (name.endsWith('.snapshot') && Number(name.slice(0, 20)) > commit24) {
          await rm(path.join(crashed, 't-0', name))
        }
      }
      const restarted = await open(crashed)
      const replayed = restarted.getLog('t', 0) as PartitionLog
      assert.deepEqual(replayed.activeProducers().filter(producer =>
        producer.currentTxnStartOffset >= 0), [], 'no transaction is open after the replay')
      assert.equal(replayed.lastStableOffset, replayed.logEndOffset)
      await restarted.close()
    } finally {
      await rm(crashed, { recursive: true, force: true })
    }
    assert.deepEqual((await checkTxnIndexes(path.join(dataDir, 't-0'))).entries, [],
      'no .txnindex entry is left')
    assert.deepEqual(await log.abortedTransactions(log.logStartOffset, log.logEndOffset), [],
      'nor in memory')
    assert.deepEqual(latest(await readerView(log, false)), expected)

    await manager.close()
    manager = await open()
    const again = manager.getLog('t', 0) as PartitionLog
    assert.equal(again.lastStableOffset, again.logEndOffset, 'no transaction is open')
    assert.deepEqual(await again.abortedTransactions(again.logStartOffset, again.logEndOffset),
      [])
    assert.deepEqual(latest(await readerView(again, true)), expected, 'the same after a restart')
    assert.deepEqual(latest(await readerView(again, false)), expected)
    // The producers go on where they were (idempotence state survived the cleaning).
    const next = await again.append(buildRecordBatchSync([{ key: 'after20-6', value: 'c20-6' }],
      { timestampMs: clock.nowMs(), transactional: true, producerId: 20, producerEpoch: 0,
        baseSequence: sequences.get(20) ?? 0 }), { leaderEpoch: 0, recordsCount: 1,
      maxTimestamp: clock.nowMs(), producerId: 20, producerEpoch: 0,
      baseSequence: sequences.get(20) ?? 0, isTransactional: true })
    assert.equal(next.duplicate, false)
    await marker(again, clock, 20, true)
    await manager.close()
    const validation = await validatePartitionDir(path.join(dataDir, 't-0'),
      { mode: 'strict', compacted: true })
    assert.deepEqual(validation.problems, [])
  })

  it('ends with the old segments and .txnindex files or the new ones after a crash at each ' +
    'step of a swap that removes ABORT markers', async () => {
    const clock = new ManualClock()
    // Written in small segments; cleaned (and reopened) with room for them all in one group.
    const open = async (dir: string, segmentBytes = 16_384): Promise<LogManager> =>
      LogManager.open({ dataDir: dir, nodeId: 1, clock,
        defaultConfig: { ...COMPACT, segmentBytes }, cleaner: { enable: false } })
    let manager = await open(dataDir, COMPACT.segmentBytes)
    const log = await manager.getOrCreateLog('t', 0)
    await fill(log, clock, 3)
    for (const producerId of [30, 31]) {
      await put(log, clock, [['x', `aborted-${producerId}`]], producerId)
      await marker(log, clock, producerId, false)
    }
    for (let i = 0; i < 6; i++) {
      for (const producerId of [30, 31]) {
        await put(log, clock, [[`c${producerId}`, `${i}`]], producerId)
        await marker(log, clock, producerId, true)
      }
    }
    await fill(log, clock, 12)
    assert.ok(await manager.cleaner.cleanOnce() !== undefined, 'the cleaning removing the data')
    clock.advance(60_000)
    await fill(log, clock, 12)
    await manager.close()
    const old = await mkdtemp(path.join(os.tmpdir(), 'tributary-txswap-old-'))
    const work = await mkdtemp(path.join(os.tmpdir(), 'tributary-txswap-work-'))

    /** What a restart shows: markers, `.txnindex` entries, the read_committed values. */
    const state = async (dir: string): Promise<unknown> => {
      const opened = await open(dir)
      try {
        const reopened = opened.getLog('t', 0) as PartitionLog
        const report = await checkTxnIndexes(path.join(dir, 't-0'))
        assert.deepEqual(report.problems, [])
        return {
          markers: await markers(reopened),
          entries: report.entries,
          inMemory: await reopened.abortedTransactions(0, reopened.logEndOffset),
          committed: await readerView(reopened, true),
        }
      } finally {
        await opened.close()
      }
    }
    try {
      await cp(dataDir, old, { recursive: true })
      manager = await open(dataDir)
      const cleaning = await manager.cleaner.cleanOnce()
      assert.ok(cleaning !== undefined && cleaning.result.segmentsAfter === 1,
        `one group: the crash states below are of one swap (${JSON.stringify(cleaning)})`)
      await manager.close()
      const base = '00000000000000000000'
      const cleanedLog = path.join(dataDir, 't-0', `${base}.log`)
      const cleanedIndex = path.join(dataDir, 't-0', `${base}.txnindex`)
      const oldPartition = path.join(old, 't-0')
      const replaced = (await readdir(oldPartition)).filter(name => name.endsWith('.log'))
        .sort().slice(0, cleaning.result.segmentsBefore).map(name => name.slice(0, 20))
      const before = await state(old)
      const after = await state(dataDir)
      assert.ok(JSON.stringify(before).includes('ABORT'), 'the old segments hold ABORT markers')
      assert.ok(!JSON.stringify(after).includes('ABORT'), 'the cleaned one none')
      assert.deepEqual((after as { entries: unknown[] }).entries, [])
      // The old segments' files renamed `.deleted`, as LogSegment.renameForDeletion does: the
      // first one's `.txnindex` is already the new one by then, and stays.
      const renameOld = async (partition: string, bases: string[]): Promise<void> => {
        for (const oldBase of bases) {
          for (const suffix of ['.log', '.index', '.timeindex', '.txnindex']) {
            if (oldBase === base && suffix === '.txnindex') continue
            // Only a segment's index files may be missing (never written); its .log is there.
            await rename(path.join(partition, oldBase + suffix),
              path.join(partition, `${oldBase}${suffix}.deleted`)).catch((error: unknown) => {
              if (suffix === '.log' || (error as { code?: string }).code !== 'ENOENT') throw error
            })
          }
        }
      }
      const half = replaced.slice(0, Math.ceil(replaced.length / 2))
      const swapped = async (partition: string): Promise<void> => {
        await copyFile(cleanedLog, path.join(partition, `${base}.log.swap`))
        await copyFile(cleanedIndex, path.join(partition, `${base}.txnindex`))
      }
      // Each step of the swap, as a kill would leave it.
      const steps: [string, (partition: string) => Promise<void>, unknown][] = [
        ['both .cleaned written', async partition => {
          await copyFile(cleanedLog, path.join(partition, `${base}.log.cleaned`))
          await copyFile(cleanedIndex, path.join(partition, `${base}.txnindex.cleaned`))
        }, before],
        ['the index renamed .swap', async partition => {
          await copyFile(cleanedLog, path.join(partition, `${base}.log.cleaned`))
          await copyFile(cleanedIndex, path.join(partition, `${base}.txnindex.swap`))
        }, before],
        ['both renamed .swap', async partition => {
          await copyFile(cleanedLog, path.join(partition, `${base}.log.swap`))
          await copyFile(cleanedIndex, path.join(partition, `${base}.txnindex.swap`))
        }, after],
        ['the index renamed over the first old one', swapped, after],
        ['half the old segments renamed .deleted', async partition => {
          await swapped(partition)
          await renameOld(partition, half)
        }, after],
        ['an old segment renamed but its .txnindex not yet', async partition => {
          await swapped(partition)
          const last = replaced[replaced.length - 1] as string
          await renameOld(partition, replaced.slice(0, -1))
          await rename(path.join(partition, `${last}.log`),
            path.join(partition, `${last}.log.deleted`))
        }, after],
        ['all old segments renamed .deleted', async partition => {
          await swapped(partition)
          await renameOld(partition, replaced)
        }, after],
      ]
      for (const [step, crash, expected] of steps) {
        await rm(work, { recursive: true, force: true })
        await cp(old, work, { recursive: true })
        await rm(path.join(work, '.kafka_cleanshutdown'), { force: true })
        await crash(path.join(work, 't-0'))
        assert.deepEqual(await state(work), expected, `after a crash with ${step}`)
        const names = await readdir(path.join(work, 't-0'))
        assert.deepEqual(names.filter(name => /\.(cleaned|swap|deleted)$/.test(name)), [], step)
        const validation = await validatePartitionDir(path.join(work, 't-0'),
          { mode: 'strict', compacted: true })
        assert.deepEqual(validation.problems, [], step)
      }
    } finally {
      await rm(old, { recursive: true, force: true })
      await rm(work, { recursive: true, force: true })
    }
  })
})
