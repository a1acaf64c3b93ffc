/**
 * What the log cleaner knows of transactions during one pass over the cleaned range, in offset
 * order (Kafka's CleanedTransactionMetadata). The aborted transactions come from the
 * segments' `.txnindex` (the list a read_committed Fetch uses); a producer is inside an aborted
 * transaction from that transaction's first offset to its ABORT marker.
 *
 * - A transactional data batch of an aborted transaction: its records are removed (and never
 *   enter the offset map, where they would supersede committed values of the same keys). The
 *   pass notes that it saw a batch of that transaction (Kafka's lastObservedBatchOffset), even
 *   when the batch stays emptied for producer state.
 * - A COMMIT marker may go once nothing of its transaction is left below it: no batch of the
 *   transaction stayed in this pass, not even emptied (a replay of producer state would
 *   otherwise see a transaction begin and never end).
 * - An ABORT marker may go once the pass saw no batch of its transaction: an earlier pass
 *   removed them all. In the pass that removes the data it stays, so a reader that fetched the
 *   aborted records before the cleaning still finds the marker that ends them. Its `.txnindex`
 *   entry goes with it: the entries of the ABORT markers a group keeps are that group's new
 *   `.txnindex` (Kafka's cleanedIndex), swapped in with the cleaned segment, and the partition
 *   drops the others from memory at the swap. A marker never goes without its entry, nor an
 *   entry without its marker: an entry left alone would make a read_committed reader drop the
 *   producer's next, committed transaction. An ABORT marker with no entry (nothing of its
 *   transaction was ever written here) may go as well.
 *
 * For both kinds the caller adds the delete horizon: a marker goes only once a cleaning reached
 * it delete.retention.ms ago or more (as tombstones; KIP-534), and never when it must stay as a
 * group's last batch or a producer's last batch.
 */
import { CONTROL_TYPE_ABORT, CONTROL_TYPE_COMMIT } from '../records/control-batch.js'
import type { AbortedTxn } from './txn-index.js'

/** What a marker leaves behind: whether it may go, and the index entry it carries (ABORT). */
export interface MarkerFate {
  removable: boolean
  /** The aborted transaction this ABORT marker ends, if the index has it. */
  entry: AbortedTxn | undefined
}

/** A marker the cleaning removes: producer snapshots taken inside its transaction go too. */
export interface RemovedMarker {
  producerId: number
  offset: number
}

interface OngoingAbort {
  entry: AbortedTxn
  /** A batch of the transaction was seen in this pass (removed, or kept emptied). */
  observed: boolean
}

export class CleanedTransactions {
  readonly #pending: AbortedTxn[]
  /** Producers inside an aborted transaction at the current point of the pass. */
  readonly #aborted = new Map<number, OngoingAbort>()
  /** Producers whose current (not aborted) transaction has a batch left in this pass. */
  readonly #withData = new Set<number>()
  /** The entries of the ABORT markers kept since the last `takeCleanedIndex`, in order. */
  #cleanedIndex: AbortedTxn[] = []
  /** The markers removed since the last `takeRemovedMarkers`. */
  #removedMarkers: RemovedMarker[] = []

  constructor (aborted: readonly AbortedTxn[]) {
    this.#pending = [...aborted].sort((a, b) => b.firstOffset - a.firstOffset)
  }

  /** Aborted transactions starting at or before `lastOffset` have begun. */
  #reach (lastOffset: number): void {
    for (;;) {
      const next = this.#pending[this.#pending.length - 1]
      if (next === undefined || next.firstOffset > lastOffset) return
      this.#pending.pop()
      if (!this.#aborted.has(next.producerId)) {
        this.#aborted.set(next.producerId, { entry: next, observed: false })
      }
    }
  }

  /** Whether a data batch belongs to an aborted transaction (its records all go). */
  isAborted (producerId: number, transactional: boolean, lastOffset: number): boolean {
    this.#reach(lastOffset)
    if (!transactional) return false
    const ongoing = this.#aborted.get(producerId)
    if (ongoing === undefined) return false
    ongoing.observed = true
    return true
  }

  /** A transactional batch of a committed (or not aborted) transaction stays in the log. */
  keptRecords (producerId: number): void {
    this.#withData.add(producerId)
  }

  /**
   * A marker ends its producer's transaction: whether it may be removed as far as the data is
   * concerned, and for an ABORT marker the index entry that must stay if the marker stays.
   */
  endTransaction (producerId: number, lastOffset: number, controlType: number | undefined):
  MarkerFate {
    this.#reach(lastOffset)
    const ongoing = this.#aborted.get(producerId)
    this.#aborted.delete(producerId)
    const hadData = this.#withData.delete(producerId)
    if (controlType === CONTROL_TYPE_COMMIT) return { removable: !hadData, entry: undefined }
    if (controlType === CONTROL_TYPE_ABORT) {
      return { removable: ongoing?.observed !== true, entry: ongoing?.entry }
    }
    return { removable: false, entry: undefined }
  }

  /** The marker of `fate` stays in the cleaned log: so does its index entry. */
  keepMarker (fate: MarkerFate): void {
    if (fate.entry !== undefined) this.#cleanedIndex.push(fate.entry)
  }

  /** The marker at `offset` goes from the cleaned log (with its index entry, if any). */
  removeMarker (producerId: number, offset: number): void {
    this.#removedMarkers.push({ producerId, offset })
  }

  takeRemovedMarkers (): RemovedMarker[] {
    const markers = this.#removedMarkers
    this.#removedMarkers = []
    return markers
  }

  /** The `.txnindex` of the group cleaned since the last call (Kafka's cleanedIndex). */
  takeCleanedIndex (): AbortedTxn[] {
    const entries = this.#cleanedIndex
    this.#cleanedIndex = []
    return entries
  }
}
