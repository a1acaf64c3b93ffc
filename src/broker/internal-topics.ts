/** Kafka's internal topics (Topic.INTERNAL_TOPICS): clients may read but not create them. */
export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets'
export const TRANSACTION_STATE_TOPIC = '__transaction_state'

export function isInternalTopic (name: string): boolean {
  return name === CONSUMER_OFFSETS_TOPIC || name === TRANSACTION_STATE_TOPIC
}
