/**
 * `partition.metadata`: the topic id of a partition directory, written as Kafka writes it
 * (PartitionMetadataFile, KIP-516):
 *
 *   version: 0
 *   topic_id: <the topic id, base64url without padding, as Kafka's Uuid.toString()>
 *
 * so that a directory can be told apart from one of an older topic of the same name, and so
 * that Kafka's tools read it as their own.
 */
export const PARTITION_METADATA_FILE = 'partition.metadata'

export function formatPartitionMetadata (topicId: string): string {
  return `version: 0\ntopic_id: ${topicId}\n`
}

/** The topic id in a partition.metadata text, or undefined if it is not one Kafka wrote. */
export function parsePartitionMetadata (text: string): string | undefined {
  const match = /^version: 0\r?\ntopic_id: ([A-Za-z0-9_-]{22})\r?\n?$/.exec(text)
  return match?.[1]
}
