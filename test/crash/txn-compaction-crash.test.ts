/**
 * Transactional compaction crash test: a child interleaves committed and aborted transactions
 * of three producers on a compacted log while the cleaner runs back to back with a short
 * delete.retention.ms (txn-compaction-writer.ts), so cleanings remove aborted records, then
 * ABORT markers with their `.txnindex` entries; the parent SIGKILLs it at seeded random
 * moments, landing anywhere in those swaps. After each kill the log is reopened and must show:
 * no `.cleaned`, `.swap` or `.deleted` file; segments that pass the strict validator in
 * compacted mode; every `.txnindex` entry with its ABORT marker in its segment (never an entry
 * outliving its marker, which would hide the producer's next commit); below the last stable
 * offset, a read_committed reader sees no aborted record, every record it sees at an
 * acknowledged offset is the acknowledged one, and every key's last committed record (or a
 * later one) is there; and no producer whose transaction ended has one open after the
 * restart (producer state rebuilt from the cleaned log). Prints `N passed, M failed` and how
 * many ABORT markers the cleaner removed. CRASH_SEED replays a run.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { withoutAbortedBatches } from '../../src/records/aborted-transactions.js'
import { isControlBatch, readBatchHeader } from '../../src/records/batch-header.js'
import { decodeRecordBatch, iterateRecords } from '../../src/records/batch.js'
import { CONTROL_TYPE_ABORT, controlTypeOf } from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { rawBatches } from '../support/raw-batches.js'
import { CrashTally } from '../support/crash-tally.js'
import { validatePartitionDir } from '../support/segment-validator.js'
import { seededRandom } from '../support/seeded-random.js'
import { checkTxnIndexes } from '../support/txn-index-check.js'
import { runWriterUntilKilled } from './killed-writer.js'

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'txn-compaction-writer.js')
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 10)

const tally = new CrashTally(`transactional compaction crash: ${CYCLES} SIGKILL cycles, ` +
  `CRASH_SEED=${SEED}`)
after(() => tally.print())

interface Written { offset: number, key: string, value: string }

/** What the writers acknowledged, by the fate of each record's transaction. */
class Outcomes {
  readonly committed = new Map<number, Written>()
  readonly aborted = new Set<string>()
  /** Records of transactions whose marker was not acknowledged (yet): fate unknown. */
  readonly #open = new Map<number, Written[]>()
  /** Each producer's last acknowledged marker. */
  readonly lastMarker = new Map<number, number>()
  aborts = 0

  line (line: string): void {
    const parts = line.split(' ')
    if (parts[0] === 'PLAIN') {
      this.committed.set(Number(parts[1]), { offset: Number(parts[1]), key: parts[2] as string,
        value: parts[3] as string })
    } else if (parts[0] === 'DATA') {
      const producerId = Number(parts[2])
      const list = this.#open.get(producerId) ?? []
      list.push({ offset: Number(parts[1]), key: parts[3] as string, value: parts[4] as string })
      this.#open.set(producerId, list)
    } else if (parts[0] === 'END') {
      const producerId = Number(parts[1])
      const records = this.#open.get(producerId) ?? []
      this.#open.delete(producerId)
      this.lastMarker.set(producerId, Number(parts[3]))
      if (parts[2] === 'COMMIT') {
        for (const record of records) this.committed.set(record.offset, record)
      } else {
        this.aborts++
        for (const record of records) this.aborted.add(record.value)
      }
    }
  }
}


async function abortMarkers (batches: Buffer[]): Promise<number> {
  let count = 0
  for (const batch of batches) {
    if (!isControlBatch(readBatchHeader(batch).attributes)) continue
    const { records } = await decodeRecordBatch(batch)
    if (controlTypeOf(records[0]?.key ?? null) === CONTROL_TYPE_ABORT) count++
  }
  return count
}

async function verifyLog (log: PartitionLog, outcomes: Outcomes, problems: string[]):
Promise<number> {
  const stable = log.lastStableOffset
  const batches = await rawBatches(log, stable)
  const aborted = await log.abortedTransactions(log.logStartOffset, stable)
  const lastOfKey = new Map<string, number>()
  let previous = -1
  for await (const record of iterateRecords(withoutAbortedBatches(Buffer.concat(batches),
    aborted).records)) {
    const key = record.key?.toString() ?? ''
    const value = record.value?.toString() ?? ''
    if (record.offset <= previous) problems.push(`offset ${record.offset} after ${previous}`)
    previous = record.offset
    if (outcomes.aborted.has(value)) problems.push(`read_committed sees aborted ${value}`)
    const acked = outcomes.committed.get(record.offset)
    if (acked !== undefined && (acked.key !== key || acked.value !== value)) {
      problems.push(`offset ${record.offset} holds ${key}=${value}, acknowledged ${acked.value}`)
    }
    lastOfKey.set(key, record.offset)
  }
  const lastCommitted = new Map<string, number>()
  for (const [offset, record] of outcomes.committed) {
    if (offset < stable) {
      lastCommitted.set(record.key, Math.max(lastCommitted.get(record.key) ?? -1, offset))
    }
  }
  for (const [key, offset] of lastCommitted) {
    const last = lastOfKey.get(key) ?? -1
    if (last < offset) problems.push(`${key}: last visible ${last}, committed ${offset}`)
  }
  for (const producer of log.activeProducers()) {
    const marker = outcomes.lastMarker.get(producer.producerId) ?? -1
    if (producer.currentTxnStartOffset >= 0 && producer.currentTxnStartOffset < marker) {
      problems.push(`producer ${producer.producerId} has a transaction open from ` +
        `${producer.currentTxnStartOffset}, before its marker at ${marker} (producer state ` +
        'rebuilt from the cleaned log)')
    }
  }
  return abortMarkers(await rawBatches(log, log.logEndOffset))
}

async function verify (dataDir: string, outcomes: Outcomes): Promise<{ problems: string[],
  markers: number }> {
  const problems: string[] = []
  const partition = path.join(dataDir, 'crash-0')
  const manager = await LogManager.open({ dataDir, nodeId: 1, cleaner: { enable: false } })
  let markers = 0
  try {
    for (const name of await readdir(partition)) {
      if (/\.(cleaned|swap|deleted)$/.test(name)) problems.push(`${name} left after the start`)
    }
    const log = manager.getLog('crash', 0)
    assert.ok(log !== undefined)
    markers = await verifyLog(log, outcomes, problems)
  } finally {
    await manager.close()
  }
  problems.push(...(await checkTxnIndexes(partition)).problems)
  const validation = await validatePartitionDir(partition, { mode: 'strict', compacted: true })
  problems.push(...validation.problems)
  return { problems, markers }
}

describe(`transactional compaction crash recovery (CRASH_SEED=${SEED})`, () => {
  it(`keeps .txnindex and segments consistent and aborted records invisible across ${CYCLES} ` +
    'SIGKILLs', async () => {
    const random = seededRandom(SEED)
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-txn-compaction-crash-'))
    try {
      const outcomes = new Outcomes()
      let markers = 0
      let killedMidSwap = 0
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const killAfterMs = 100 + Math.floor(random() * 600)
        await runWriterUntilKilled(WRITER, [dataDir, String(cycle), String(SEED)], killAfterMs,
          line => { outcomes.line(line) })
        const left = await readdir(path.join(dataDir, 'crash-0')).catch(() => [])
        if (left.some(name => /\.(cleaned|swap)$/.test(name))) killedMidSwap++
        const result = await verify(dataDir, outcomes)
        markers = result.markers
        tally.record(`cycle ${cycle} (kill after ${killAfterMs} ms)`, result.problems)
      }
      console.log(`transactional compaction crash: ${outcomes.aborts} transactions aborted, ` +
        `${outcomes.aborts - markers} ABORT markers removed by the cleaner, ${markers} left; ` +
        `${killedMidSwap} of ${CYCLES} kills left a .cleaned or .swap file`)
      assert.deepEqual(tally.failures, [])
      // What the checks are about must have happened: cleanings that removed ABORT markers, and
      // kills inside a swap (about two kills in three land in one).
      assert.ok(outcomes.aborts - markers > 0, 'the cleaner removed no ABORT marker')
      assert.ok(killedMidSwap > 0, 'no kill landed in a swap')
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
