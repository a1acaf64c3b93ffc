/**
 * One group's committed offsets (Kafka's OffsetMetadataManager, for one group), pure. The map
 * changes only in `replay`; the other methods compute the records that a commit, an
 * OffsetDelete, a group deletion or expiry produce, which ClassicGroup emits and replays.
 *
 * Limits: OFFSETS_PER_GROUP_MAX offsets (INVALID_COMMIT_OFFSET_SIZE past it) and
 * offset.metadata.max.bytes of metadata per offset (OFFSET_METADATA_TOO_LARGE).
 */
import { ERROR } from '../protocol/errors.js'
import type { CommitEntry } from './group-events.js'
import { offsetKey, splitOffsetKey, type GroupRecord, type OffsetValue } from './group-records.js'

/** Committed offsets one group may hold; the handler also refuses unknown partitions. */
export const OFFSETS_PER_GROUP_MAX = 100_000
/** offset.metadata.max.bytes (Kafka's default). */
export const OFFSET_METADATA_MAX_BYTES = 4096

/** What offset expiry depends on in the group. */
export interface ExpiryContext {
  empty: boolean
  /** Whether the group ever had a protocol type, i.e. members (Kafka: "consumer group"). */
  hadMembers: boolean
  currentStateTimestampMs: number
  retentionMs: number
}

export class GroupOffsets {
  readonly #groupId: string
  readonly #offsets = new Map<string, OffsetValue>()

  constructor (groupId: string) {
    this.#groupId = groupId
  }

  get map (): ReadonlyMap<string, OffsetValue> {
    return this.#offsets
  }

  get size (): number {
    return this.#offsets.size
  }

  replay (topic: string, partition: number, value: OffsetValue | null): void {
    const key = offsetKey(topic, partition)
    if (value === null) this.#offsets.delete(key)
    else this.#offsets.set(key, value)
  }

  #record (topic: string, partition: number, value: OffsetValue | null): GroupRecord {
    return { kind: 'offset', groupId: this.#groupId, topic, partition, value }
  }

  /** The records of a commit and one code per entry; `error` fails every entry. */
  commit (entries: CommitEntry[], error: number, nowMs: number, retentionMs: number):
  { records: GroupRecord[], errorCodes: number[] } {
    let room = OFFSETS_PER_GROUP_MAX - this.#offsets.size
    const records: GroupRecord[] = []
    const errorCodes = entries.map(entry => {
      if (error !== ERROR.NONE) return error
      if (entry.metadata !== null &&
        Buffer.byteLength(entry.metadata) > OFFSET_METADATA_MAX_BYTES) {
        return ERROR.OFFSET_METADATA_TOO_LARGE
      }
      if (!this.#offsets.has(offsetKey(entry.topic, entry.partition)) && room-- <= 0) {
        return ERROR.INVALID_COMMIT_OFFSET_SIZE
      }
      records.push(this.#record(entry.topic, entry.partition, { offset: entry.offset,
        leaderEpoch: entry.leaderEpoch, metadata: entry.metadata, commitTimestampMs: nowMs,
        // OffsetCommit v2-4 retention_time_ms; -1 leaves expiry to KIP-211's rules.
        expireTimestampMs: retentionMs >= 0 ? nowMs + retentionMs : null }))
      return ERROR.NONE
    })
    return { records, errorCodes }
  }

  /** OffsetDelete: tombstones, except for subscribed topics (GROUP_SUBSCRIBED_TO_TOPIC). */
  delete (partitions: { topic: string, partition: number }[], subscribed: Set<string> | 'all'):
  { records: GroupRecord[], errorCodes: number[] } {
    const records: GroupRecord[] = []
    const errorCodes = partitions.map(({ topic, partition }) => {
      if (subscribed === 'all' || subscribed.has(topic)) return ERROR.GROUP_SUBSCRIBED_TO_TOPIC
      if (this.#offsets.has(offsetKey(topic, partition))) {
        records.push(this.#record(topic, partition, null))
      }
      return ERROR.NONE
    })
    return { records, errorCodes }
  }

  /** Tombstones for every offset (group deletion). */
  deleteAll (): GroupRecord[] {
    return [...this.#offsets.keys()].map(key => {
      const { topic, partition } = splitOffsetKey(key)
      return this.#record(topic, partition, null)
    })
  }

  /**
   * When a committed offset expires (KIP-211, Kafka's OffsetExpirationConditionImpl): at its
   * explicit expire timestamp if it has one; else retention after the group became Empty; for
   * a group that never had members, retention after the commit. Never while members remain.
   */
  expiryMs (value: OffsetValue, context: ExpiryContext): number | null {
    if (value.expireTimestampMs !== null) return value.expireTimestampMs
    if (!context.empty) return null
    const base = context.hadMembers ? context.currentStateTimestampMs : value.commitTimestampMs
    return base + context.retentionMs
  }

  /** Tombstones for the offsets expired at `nowMs`. */
  expired (nowMs: number, context: ExpiryContext): GroupRecord[] {
    const records: GroupRecord[] = []
    for (const [key, value] of this.#offsets) {
      const expiryMs = this.expiryMs(value, context)
      if (expiryMs === null || nowMs < expiryMs) continue
      const { topic, partition } = splitOffsetKey(key)
      records.push(this.#record(topic, partition, null))
    }
    return records
  }

  /** The earliest expiry of any offset, or Infinity. */
  nextExpiryMs (context: ExpiryContext): number {
    let next = Infinity
    for (const value of this.#offsets.values()) {
      next = Math.min(next, this.expiryMs(value, context) ?? Infinity)
    }
    return next
  }
}
