/**
 * Kafka's internal topics (Topic.INTERNAL_TOPICS): written only by the broker itself. Clients
 * may read them (Fetch, Metadata with is_internal=true) but may not create, delete, produce
 * to, delete records from, add partitions to or reconfigure them, over Kafka or HTTP.
 * A later internal topic is added here and every one of those checks covers it.
 *
 * `__cluster_metadata` is not among them: it is not a topic at all (controller/metadata-topic).
 */
export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets'
export const TRANSACTION_STATE_TOPIC = '__transaction_state'

const INTERNAL_TOPICS: ReadonlySet<string> = new Set([CONSUMER_OFFSETS_TOPIC,
  TRANSACTION_STATE_TOPIC])

export function isInternalTopic (name: string): boolean {
  return INTERNAL_TOPICS.has(name)
}
