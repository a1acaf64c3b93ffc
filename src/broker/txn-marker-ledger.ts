/**
 * What this broker, as a partition leader, remembers of the transaction markers written to its
 * partitions, per (partition, producer id):
 *
 * - on `__consumer_offsets` partitions only, the highest coordinator epoch seen: a marker from a
 *   deposed coordinator is refused with TRANSACTION_COORDINATOR_FENCED, so it cannot complete
 *   the offsets of the transaction a new coordinator has started since. Data partitions keep
 *   the coordinator epoch in their producer state instead (src/storage/producer-state.ts,
 *   persisted and replicated, as Kafka's ProducerStateEntry.coordinatorEpoch); a
 *   `__consumer_offsets` partition gets no control batch (its group coordinator completes the
 *   offsets), so its producer state never sees the marker;
 * - a count of markers written, the guard of a transactional produce verified with a remote
 *   coordinator (Kafka's VerificationGuard, KIP-890): if a marker for the producer landed between
 *   the verification and the append, the transaction the produce was verified for has ended and
 *   the batch is refused;
 * - the producer epoch a remote coordinator last verified here, with the marker count then:
 *   while no marker has landed since, the producer's transaction on this partition is the one
 *   verified, so its next batches need no new verification (Kafka verifies only a producer's
 *   first batch of a transaction on a partition, when no transaction is ongoing there).
 *
 * In memory only and bounded (ENTRIES_MAX, least recently used first out): after a restart or a
 * leadership move of a `__consumer_offsets` partition the new leader starts with an empty
 * ledger, so only markers of deposed coordinators that arrive at the same leader are fenced
 * there.
 */
import { ERROR } from '../protocol/errors.js'
import { CONSUMER_OFFSETS_TOPIC } from './internal-topics.js'

const ENTRIES_MAX = 100_000

interface Entry {
  coordinatorEpoch: number
  markers: number
  /** The producer epoch verified with the coordinator, at `verifiedAtMarkers`; -1 if none. */
  verifiedEpoch: number
  verifiedAtMarkers: number
}

export class TxnMarkerLedger {
  readonly #entries = new Map<string, Entry>()

  static #key (topic: string, partition: number, producerId: number): string {
    return `${topic}\u0000${partition}\u0000${producerId}`
  }

  /**
   * NONE if a marker of this coordinator epoch may complete offsets on `__consumer_offsets`
   * partition `partition`, else the error to answer.
   */
  checkOffsetsMarker (partition: number, producerId: number, coordinatorEpoch: number):
  number {
    const entry = this.#entries.get(TxnMarkerLedger.#key(CONSUMER_OFFSETS_TOPIC, partition,
      producerId))
    return entry !== undefined && coordinatorEpoch < entry.coordinatorEpoch
      ? ERROR.TRANSACTION_COORDINATOR_FENCED
      : ERROR.NONE
  }

  /**
   * A marker is about to be appended (after `check` passed): counted before the append, so a
   * verification guard taken earlier fails from this moment on.
   */
  markerStarting (topic: string, partition: number, producerId: number): void {
    this.#update(topic, partition, producerId, entry => { entry.markers++ })
  }

  /**
   * A marker completed offsets on `__consumer_offsets` partition `partition`: its coordinator
   * epoch fences older coordinators there from now on.
   */
  recordOffsetsMarker (partition: number, producerId: number, coordinatorEpoch: number): void {
    this.#update(CONSUMER_OFFSETS_TOPIC, partition, producerId, entry => {
      entry.coordinatorEpoch = Math.max(entry.coordinatorEpoch, coordinatorEpoch)
    })
  }

  #update (topic: string, partition: number, producerId: number,
    change: (entry: Entry) => void): void {
    const key = TxnMarkerLedger.#key(topic, partition, producerId)
    const entry = this.#entries.get(key) ??
      { coordinatorEpoch: -1, markers: 0, verifiedEpoch: -1, verifiedAtMarkers: -1 }
    this.#entries.delete(key) // Map order = recency, for eviction.
    change(entry)
    this.#entries.set(key, entry)
    if (this.#entries.size > ENTRIES_MAX) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }

  /** A remote coordinator verified the producer's transaction here when `markers` were seen. */
  rememberVerified (topic: string, partition: number, producerId: number, producerEpoch: number,
    markers: number): void {
    this.#update(topic, partition, producerId, entry => {
      entry.verifiedEpoch = producerEpoch
      entry.verifiedAtMarkers = markers
    })
  }

  /** Whether that verification still holds: same producer epoch, no marker since. */
  stillVerified (topic: string, partition: number, producerId: number, producerEpoch: number):
  boolean {
    const entry = this.#entries.get(TxnMarkerLedger.#key(topic, partition, producerId))
    return entry !== undefined && entry.verifiedEpoch === producerEpoch &&
      entry.verifiedAtMarkers === entry.markers
  }

  /** Markers written for the producer here so far (a verification guard compares it). */
  markers (topic: string, partition: number, producerId: number): number {
    return this.#entries.get(TxnMarkerLedger.#key(topic, partition, producerId))?.markers ?? 0
  }
}
