/**
 * What the log cleaner knows of transactions during one pass over the cleaned range, in offset
 * order (Kafka's CleanedTransactionMetadata). The aborted transactions come from the
 * segments' `.txnindex` (the list a read_committed Fetch uses); a producer is inside an aborted
 * transaction from that transaction's first offset to its ABORT marker.
 *
 * - A transactional data batch of an aborted transaction: its records are removed (and never
 *   enter the offset map, where they would supersede committed values of the same keys).
 * - A COMMIT marker may go once nothing of its transaction is left below it: no batch of the
 *   transaction stayed in this pass, not even emptied (a replay of producer state would
 *   otherwise see a transaction begin and never end); the caller adds delete.retention.ms.
 * - An ABORT marker stays. Removing it would leave its `.txnindex` entry (on disk and in the
 *   partition's memory) without the marker that ends it, and a read_committed reader would then
 *   drop the producer's next, committed transaction too; Kafka removes the entry together with
 *   the marker (CleanedTransactionMetadata.cleanedIndex), which this broker's segment swap does
 *   not yet do. After the pass its aborted records are gone, so it is one small batch.
 */
import { CONTROL_TYPE_COMMIT } from '../records/control-batch.js'

export interface AbortedRange {
  producerId: number
  firstOffset: number
}

export class CleanedTransactions {
  readonly #pending: AbortedRange[]
  /** Producers inside an aborted transaction at the current point of the pass. */
  readonly #aborted = new Set<number>()
  /** Producers whose current (not aborted) transaction has a batch left in this pass. */
  readonly #withData = new Set<number>()

  constructor (aborted: readonly AbortedRange[]) {
    this.#pending = [...aborted].sort((a, b) => b.firstOffset - a.firstOffset)
  }

  /** Aborted transactions starting at or before `lastOffset` have begun. */
  #reach (lastOffset: number): void {
    for (;;) {
      const next = this.#pending[this.#pending.length - 1]
      if (next === undefined || next.firstOffset > lastOffset) return
      this.#pending.pop()
      this.#aborted.add(next.producerId)
    }
  }

  /** Whether a data batch belongs to an aborted transaction (its records all go). */
  isAborted (producerId: number, transactional: boolean, lastOffset: number): boolean {
    this.#reach(lastOffset)
    return transactional && this.#aborted.has(producerId)
  }

  /** A transactional batch of a committed (or not aborted) transaction stays in the log. */
  keptRecords (producerId: number): void {
    this.#withData.add(producerId)
  }

  /**
   * A marker ends its producer's transaction; whether it may be removed as far as the data is
   * concerned (a COMMIT whose transaction has no record left).
   */
  endTransaction (producerId: number, lastOffset: number, controlType: number | undefined):
  boolean {
    this.#reach(lastOffset)
    this.#aborted.delete(producerId)
    const hadData = this.#withData.delete(producerId)
    return controlType === CONTROL_TYPE_COMMIT && !hadData
  }
}
