/**
 * Checks a partition directory's `.txnindex` files against its segments, from the files alone
 * (no broker code reads them here): every index belongs to a segment (`<base>.log`), its
 * entries are whole, in marker order, and each one's marker (its last offset) is an ABORT
 * control batch of the same producer in that very segment, with the transaction's first
 * offset at or below it. An entry without its marker would make a read_committed reader drop
 * the producer's next, committed transaction; a marker in another segment than its entry means
 * a swap mixed old and new files.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { isControlBatch, readBatchHeader } from '../../src/records/batch-header.js'
import { decodeRecordBatch, splitBatches } from '../../src/records/batch.js'
import { CONTROL_TYPE_ABORT, controlTypeOf } from '../../src/records/control-batch.js'
import { decodeTxnIndex, type AbortedTxn } from '../../src/storage/txn-index.js'

const TXN_INDEX = /^(\d{20})\.txnindex$/

/** The ABORT markers of a segment file: offset → producer id. */
async function abortMarkersOf (logFile: string): Promise<Map<number, number>> {
  const bytes = await readFile(logFile)
  const markers = new Map<number, number>()
  for (const { position, size } of splitBatches(bytes)) {
    const batch = bytes.subarray(position, position + size)
    const header = readBatchHeader(batch)
    if (!isControlBatch(header.attributes)) continue
    const { records } = await decodeRecordBatch(batch)
    if (controlTypeOf(records[0]?.key ?? null) === CONTROL_TYPE_ABORT) {
      markers.set(header.baseOffset, header.producerId)
    }
  }
  return markers
}

export interface TxnIndexReport {
  problems: string[]
  /** Every entry of every index, in segment order. */
  entries: AbortedTxn[]
}

export async function checkTxnIndexes (partitionDir: string): Promise<TxnIndexReport> {
  const names = (await readdir(partitionDir)).sort()
  const problems: string[] = []
  const entries: AbortedTxn[] = []
  for (const name of names) {
    const match = TXN_INDEX.exec(name)
    if (match === null) continue
    const base = match[1] as string
    if (!names.includes(`${base}.log`)) {
      problems.push(`${name} has no segment`)
      continue
    }
    const bytes = await readFile(path.join(partitionDir, name))
    if (bytes.length % 34 !== 0) problems.push(`${name}: ${bytes.length} bytes is not whole entries`)
    const markers = await abortMarkersOf(path.join(partitionDir, `${base}.log`))
    let previous = -1
    for (const entry of decodeTxnIndex(bytes)) {
      entries.push(entry)
      const where = `${name}: entry of producer ${entry.producerId} ending at ${entry.lastOffset}`
      if (entry.lastOffset <= previous) problems.push(`${where} is out of marker order`)
      previous = entry.lastOffset
      if (entry.firstOffset > entry.lastOffset) problems.push(`${where} starts after its marker`)
      if (markers.get(entry.lastOffset) !== entry.producerId) {
        problems.push(`${where} has no ABORT marker of that producer there`)
      }
    }
  }
  return { problems, entries }
}
