/**
 * Dropping the batches of aborted transactions from a read_committed read, as Kafka's consumer
 * does with the aborted-transactions list a Fetch answers (KIP-98; Java's
 * `CompletedFetch.nextFetchedRecord`/`consumeAbortedTransactionsUpTo`): walking the batches in
 * offset order, a producer becomes aborted once the read reaches the first offset of one of its
 * aborted transactions, its transactional batches are dropped from then on, and its next
 * control batch (the ABORT marker) ends that. Control batches themselves are dropped too: a
 * reader of records never sees a marker.
 */
import { isControlBatch, isTransactionalBatch, readBatchHeader } from './batch-header.js'
import { splitBatches } from './batch.js'

export interface AbortedTransaction {
  producerId: number
  firstOffset: number
}

/**
 * The whole batches of `buffer` without aborted transactional data and without control
 * batches, and the offset after the last whole batch read (so a caller whose read held only
 * dropped batches can move past them instead of reading them again).
 */
export function withoutAbortedBatches (buffer: Buffer, aborted: readonly AbortedTransaction[]):
{ records: Buffer, endOffset: number | undefined } {
  const pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset)
  const abortedProducers = new Set<number>()
  const kept: Buffer[] = []
  let endOffset: number | undefined
  /** Where the whole batches end, and whether one was dropped (else no copy is needed). */
  let wholeEnd = 0
  let dropped = false
  for (const { position, size } of splitBatches(buffer)) {
    wholeEnd = position + size
    const header = readBatchHeader(buffer, position)
    const lastOffset = header.baseOffset + header.lastOffsetDelta
    endOffset = lastOffset + 1
    while (pending.length > 0 && (pending[0] as AbortedTransaction).firstOffset <= lastOffset) {
      abortedProducers.add((pending.shift() as AbortedTransaction).producerId)
    }
    if (isControlBatch(header.attributes)) {
      abortedProducers.delete(header.producerId)
      dropped = true
      continue
    }
    if (isTransactionalBatch(header.attributes) && abortedProducers.has(header.producerId)) {
      dropped = true
      continue
    }
    kept.push(buffer.subarray(position, position + size))
  }
  // Nothing dropped (the usual read): the read itself, up to its last whole batch.
  if (!dropped) return { records: buffer.subarray(0, wholeEnd), endOffset }
  return { records: kept.length === 1 ? kept[0] as Buffer : Buffer.concat(kept), endOffset }
}
