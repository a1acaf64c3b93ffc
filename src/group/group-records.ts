/**
 * The records a consumer group persists in `__consumer_offsets`, as plain data (pure: no codec
 * here; offsets-store.ts encodes them with msgpackr). They mirror Kafka's
 * OffsetCommitKey/OffsetCommitValue (key version 1) and GroupMetadataKey/GroupMetadataValue
 * (key version 2) in group-coordinator/src/main/resources/common/message, plus the pending
 * transactional offsets (key version 3, TxnOffsetValue).
 *
 * A null value is a tombstone: log compaction keeps only the last value per key, so a deleted
 * offset or group disappears from the topic, as in Kafka.
 */

/** One committed offset (Kafka's OffsetCommitValue v3). */
export interface OffsetValue {
  offset: number
  leaderEpoch: number
  metadata: string | null
  commitTimestampMs: number
  /** Set only by OffsetCommit v2-4 with retention_time_ms; otherwise KIP-211 rules apply. */
  expireTimestampMs: number | null
}

/** One member of a generation (Kafka's GroupMetadataValue.MemberMetadata). */
export interface MemberValue {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  /** The member's metadata for the selected protocol. */
  subscription: Buffer
  assignment: Buffer
}

/** A group's generation (Kafka's GroupMetadataValue v3). */
export interface GroupMetadataValue {
  protocolType: string
  generationId: number
  protocolName: string | null
  leaderId: string | null
  /** When the group entered its current state; an Empty group's offsets expire from here. */
  currentStateTimestampMs: number
  members: MemberValue[]
}

/**
 * An offset staged by a transaction (TxnOffsetCommit) and not yet decided. Kafka writes these as
 * offset records in a transactional batch and decides them with the control marker; here they
 * are records of their own (key version 3, keyed by producer id too), and the decision writes a
 * tombstone for each (plus, on COMMIT, the ordinary offset record), so a replay rebuilds exactly
 * the offsets still pending (src/group/txn-offsets.ts).
 */
export interface TxnOffsetValue {
  producerEpoch: number
  offset: number
  leaderEpoch: number
  metadata: string | null
  commitTimestampMs: number
}

export type GroupRecord =
  | { kind: 'offset', groupId: string, topic: string, partition: number,
    value: OffsetValue | null }
  | { kind: 'group', groupId: string, value: GroupMetadataValue | null }
  | { kind: 'txn-offset', groupId: string, producerId: number, topic: string,
    partition: number, value: TxnOffsetValue | null }

/** The key of a committed offset inside a group's offsets map. */
export function offsetKey (topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

/** The inverse of offsetKey. */
export function splitOffsetKey (key: string): { topic: string, partition: number } {
  const at = key.lastIndexOf('\u0000')
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) }
}

/** Subscriptions longer than this many topics are treated as unreadable (hostile input). */
const SUBSCRIPTION_TOPICS_MAX = 100_000

/**
 * The topics of a ConsumerProtocolSubscription (version int16, topics [string], ...), as the
 * Java, kafkajs and librdkafka consumers encode it; undefined if the bytes do not parse.
 * Used by OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC), as Kafka's ClassicGroup.subscribedTopics.
 */
export function subscribedTopics (subscription: Buffer): string[] | undefined {
  if (subscription.length < 6) return undefined
  let position = 2
  const count = subscription.readInt32BE(position)
  position += 4
  if (count < 0 || count > SUBSCRIPTION_TOPICS_MAX) return undefined
  const topics: string[] = []
  for (let i = 0; i < count; i++) {
    if (position + 2 > subscription.length) return undefined
    const length = subscription.readInt16BE(position)
    position += 2
    if (length < 0 || position + length > subscription.length) return undefined
    topics.push(subscription.toString('utf8', position, position + length))
    position += length
  }
  return topics
}
