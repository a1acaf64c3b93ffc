/**
 * Offsets committed inside transactions and not yet decided (Kafka's
 * GroupMetadata.pendingTransactionalOffsetCommits): TxnOffsetCommit stages them here, at the
 * group's coordinator, and the transaction's marker on the group's `__consumer_offsets`
 * partition completes them: COMMIT makes them the group's committed offsets, ABORT drops them.
 * Until then OffsetFetch does not see them. Pure: no I/O; the group coordinator persists each
 * change as a `txn-offset` record (src/group/group-records.ts) and replays those records here.
 *
 * Keyed by producer id, then (group, topic, partition): a later stage of the same key in the
 * same transaction replaces the earlier one, as in Kafka. At most PENDING_MAX entries in all.
 */
import type { GroupRecord, TxnOffsetValue } from './group-records.js'

/** Staged offsets kept at once; a stage past this is refused. */
export const PENDING_MAX = 100_000

export interface PendingOffset extends TxnOffsetValue {
  groupId: string
  topic: string
  partition: number
}

type TxnOffsetRecord = Extract<GroupRecord, { kind: 'txn-offset' }>

const entryKey = (groupId: string, topic: string, partition: number): string =>
  `${groupId}\u0000${topic}\u0000${partition}`

export class PendingTxnOffsets {
  readonly #byProducer = new Map<number, Map<string, PendingOffset>>()
  /** Pending entries per (group, topic, partition), for OffsetFetch's require_stable. */
  readonly #perKey = new Map<string, number>()
  /** Pending entries per group, for an OffsetFetch of all the group's offsets. */
  readonly #perGroup = new Map<string, number>()
  #size = 0

  get size (): number {
    return this.#size
  }

  /** The newest producer epoch that staged offsets for this producer, if any are pending. */
  epochOf (producerId: number): number | undefined {
    const entries = this.#byProducer.get(producerId)
    if (entries === undefined) return undefined
    let epoch = -1
    for (const entry of entries.values()) epoch = Math.max(epoch, entry.producerEpoch)
    return epoch
  }

  /** Whether some transaction has an undecided offset for this group's partition. */
  has (groupId: string, topic: string, partition: number): boolean {
    return this.#perKey.has(entryKey(groupId, topic, partition))
  }

  /** Whether some transaction has an undecided offset for any partition of this group. */
  hasGroup (groupId: string): boolean {
    return this.#perGroup.has(groupId)
  }

  #count (groupId: string, key: string, delta: number): void {
    for (const [counts, at] of [[this.#perKey, key], [this.#perGroup, groupId]] as const) {
      const count = (counts.get(at) ?? 0) + delta
      if (count > 0) counts.set(at, count)
      else counts.delete(at)
    }
    this.#size += delta
  }

  /** Whether `count` more entries fit under PENDING_MAX. */
  hasRoom (count: number): boolean {
    return this.#size + count <= PENDING_MAX
  }

  stage (producerId: number, offset: PendingOffset): void {
    let entries = this.#byProducer.get(producerId)
    if (entries === undefined) {
      entries = new Map()
      this.#byProducer.set(producerId, entries)
    }
    const key = entryKey(offset.groupId, offset.topic, offset.partition)
    if (!entries.has(key)) this.#count(offset.groupId, key, 1)
    entries.set(key, { ...offset })
  }

  /** A `txn-offset` record from the log: a value stages, a tombstone removes. */
  replay (record: TxnOffsetRecord): void {
    if (record.value !== null) {
      this.stage(record.producerId, { groupId: record.groupId, topic: record.topic,
        partition: record.partition, ...record.value })
      return
    }
    const entries = this.#byProducer.get(record.producerId)
    const key = entryKey(record.groupId, record.topic, record.partition)
    if (entries?.delete(key) === true) {
      this.#count(record.groupId, key, -1)
      if (entries.size === 0) this.#byProducer.delete(record.producerId)
    }
  }

  /** Removes and returns the producer's entries whose group `inScope` accepts. */
  take (producerId: number, inScope: (groupId: string) => boolean): PendingOffset[] {
    const entries = this.#byProducer.get(producerId)
    if (entries === undefined) return []
    const taken: PendingOffset[] = []
    for (const [key, entry] of entries) {
      if (!inScope(entry.groupId)) continue
      entries.delete(key)
      this.#count(entry.groupId, key, -1)
      taken.push(entry)
    }
    if (entries.size === 0) this.#byProducer.delete(producerId)
    return taken
  }

  /** Forgets every entry whose group `inScope` accepts (a partition unloaded); returns them. */
  drop (inScope: (groupId: string) => boolean): PendingOffset[] {
    return [...this.#byProducer.keys()].flatMap(producerId => this.take(producerId, inScope))
  }
}
