/**
 * The aborted-transaction index of a segment, `<baseOffset>.txnindex` (Kafka's
 * TransactionIndex): one 34-byte entry per transaction aborted by a marker in that segment,
 * int16 version (0), int64 producer id, int64 first offset, int64 last offset (the marker's),
 * int64 last stable offset after the abort. A read_committed Fetch lists the entries that
 * overlap what it returns, so the client drops those producers' records (KIP-98).
 *
 * A torn tail (a crash mid-write) is ignored on read: the entries it held are rebuilt from the
 * log's markers at load (PartitionLog), as Kafka rebuilds the index of recovered segments.
 */
import path from 'node:path'
import type { Disk } from '../io/disk.js'
import { segmentFileName } from './segment.js'

export const TXN_INDEX_SUFFIX = '.txnindex'
const ENTRY_BYTES = 34

export interface AbortedTxn {
  producerId: number
  firstOffset: number
  lastOffset: number
  lastStableOffset: number
}

export function txnIndexFile (directory: string, baseOffset: number): string {
  return path.join(directory, segmentFileName(baseOffset, TXN_INDEX_SUFFIX))
}

export function encodeTxnIndex (entries: readonly AbortedTxn[]): Buffer {
  const bytes = Buffer.alloc(entries.length * ENTRY_BYTES)
  entries.forEach((entry, i) => {
    const at = i * ENTRY_BYTES
    bytes.writeInt16BE(0, at)
    bytes.writeBigInt64BE(BigInt(entry.producerId), at + 2)
    bytes.writeBigInt64BE(BigInt(entry.firstOffset), at + 10)
    bytes.writeBigInt64BE(BigInt(entry.lastOffset), at + 18)
    bytes.writeBigInt64BE(BigInt(entry.lastStableOffset), at + 26)
  })
  return bytes
}

/** The whole entries of an index; a torn or unknown-version tail ends the list. */
export function decodeTxnIndex (bytes: Buffer): AbortedTxn[] {
  const entries: AbortedTxn[] = []
  for (let at = 0; at + ENTRY_BYTES <= bytes.length; at += ENTRY_BYTES) {
    if (bytes.readInt16BE(at) !== 0) break
    entries.push({
      producerId: Number(bytes.readBigInt64BE(at + 2)),
      firstOffset: Number(bytes.readBigInt64BE(at + 10)),
      lastOffset: Number(bytes.readBigInt64BE(at + 18)),
      lastStableOffset: Number(bytes.readBigInt64BE(at + 26)),
    })
  }
  return entries
}

export async function readTxnIndex (disk: Disk, directory: string, baseOffset: number):
Promise<AbortedTxn[]> {
  const bytes = await disk.readOptional(txnIndexFile(directory, baseOffset))
  return bytes === undefined ? [] : decodeTxnIndex(bytes)
}

/**
 * Writes `entries` into a segment's index starting at entry `at` (Kafka appends; a write at
 * the known count also overwrites a torn tail), fsynced when `sync`.
 */
export async function appendTxnIndex (disk: Disk, directory: string, baseOffset: number,
  at: number, entries: readonly AbortedTxn[], sync: boolean): Promise<void> {
  const handle = await disk.open(txnIndexFile(directory, baseOffset), 'segment')
  try {
    const bytes = encodeTxnIndex(entries)
    const position = at * ENTRY_BYTES
    let written = 0
    while (written < bytes.length) {
      const { bytesWritten } = await handle.writev([bytes.subarray(written)], position + written)
      written += bytesWritten
    }
    await handle.truncate(position + bytes.length)
    if (sync) await handle.datasync()
  } finally {
    await handle.close()
  }
}

/**
 * The cleaner's new index for a cleaned group, `<base>.txnindex.cleaned` (renamed `.swap`,
 * then into place, with the segment: swap-recovery.ts), written whole and fsynced. It is
 * written even when empty, so that a `.log.swap` always comes with its `.txnindex.swap`.
 */
export async function writeCleanedTxnIndex (disk: Disk, file: string,
  entries: readonly AbortedTxn[]): Promise<void> {
  const handle = await disk.open(file, 'replace')
  try {
    const bytes = encodeTxnIndex(entries)
    let written = 0
    while (written < bytes.length) {
      const { bytesWritten } = await handle.writev([bytes.subarray(written)], written)
      written += bytesWritten
    }
    await handle.datasync()
  } finally {
    await handle.close()
  }
}
