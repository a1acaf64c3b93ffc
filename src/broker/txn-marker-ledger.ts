/**
 * What this broker, as a partition leader, remembers of the transaction markers written to its
 * partitions, per (partition leadership term, producer id):
 *
 * - a count of markers written, the guard of a transactional produce verified with a remote
 *   coordinator (Kafka's VerificationGuard, KIP-890): if a marker for the producer landed between
 *   the verification and the append, the transaction the produce was verified for has ended and
 *   the batch is refused;
 * - the producer epoch a remote coordinator last verified here, with the marker count then:
 *   while no marker has landed since, the producer's transaction on this partition is the one
 *   verified, so its next batches need no new verification (Kafka verifies only a producer's
 *   first batch of a transaction on a partition, when no transaction is ongoing there).
 *
 * Only this broker's own marker appends are counted, and it appends them only while it leads,
 * so the counts are kept per leadership term (`leaderTerm`: topic id, partition, leader epoch).
 * Markers another leader wrote meanwhile (this broker replicated them as a follower) fall in
 * another term: a term with no entry has no verification to reuse, and a guard taken in an
 * earlier term refuses.
 *
 * In memory only and bounded (ENTRIES_MAX, least recently used first out). The newest
 * coordinator epoch per producer, which fences markers of deposed coordinators, is not here: it
 * is in each partition's producer state (src/storage/producer-state.ts), persisted and
 * replicated, as Kafka's ProducerStateEntry.coordinatorEpoch.
 */
import type { MetadataImage } from '../metadata/image.js'

const ENTRIES_MAX = 100_000

interface Entry {
  markers: number
  /** The producer epoch verified with the coordinator, at `verifiedAtMarkers`; -1 if none. */
  verifiedEpoch: number
  verifiedAtMarkers: number
}

/**
 * The partition's current leadership term in `image` (topic id, partition, leader epoch), the
 * ledger's key; undefined for a partition the image does not have.
 */
export function leaderTerm (image: MetadataImage, topic: string, partition: number):
string | undefined {
  const info = image.topic(topic)
  const leaderEpoch = info?.partitions[partition]?.leaderEpoch
  if (info === undefined || leaderEpoch === undefined) return undefined
  return `${info.topicId}\u0000${partition}\u0000${leaderEpoch}`
}

export class TxnMarkerLedger {
  readonly #entries = new Map<string, Entry>()

  static #key (term: string, producerId: number): string {
    return `${term}\u0000${producerId}`
  }

  /**
   * A marker is about to be appended in leadership term `term`: counted before the append, so a
   * verification guard taken earlier fails from this moment on (also if the log then refuses
   * the marker: the verified produce is refused and retried, the safe side).
   */
  markerStarting (term: string, producerId: number): void {
    this.#update(term, producerId, entry => { entry.markers++ })
  }

  #update (term: string, producerId: number, change: (entry: Entry) => void): void {
    const key = TxnMarkerLedger.#key(term, producerId)
    const entry = this.#entries.get(key) ??
      { markers: 0, verifiedEpoch: -1, verifiedAtMarkers: -1 }
    this.#entries.delete(key) // Map order = recency, for eviction.
    change(entry)
    this.#entries.set(key, entry)
    if (this.#entries.size > ENTRIES_MAX) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }

  /** A remote coordinator verified the producer's transaction here when `markers` were seen. */
  rememberVerified (term: string, producerId: number, producerEpoch: number,
    markers: number): void {
    this.#update(term, producerId, entry => {
      entry.verifiedEpoch = producerEpoch
      entry.verifiedAtMarkers = markers
    })
  }

  /** Whether that verification still holds: same term and producer epoch, no marker since. */
  stillVerified (term: string, producerId: number, producerEpoch: number): boolean {
    const entry = this.#entries.get(TxnMarkerLedger.#key(term, producerId))
    return entry !== undefined && entry.verifiedEpoch === producerEpoch &&
      entry.verifiedAtMarkers === entry.markers
  }

  /** Markers written for the producer in the term so far (a verification guard compares it). */
  markers (term: string, producerId: number): number {
    return this.#entries.get(TxnMarkerLedger.#key(term, producerId))?.markers ?? 0
  }
}
