/**
 * KRaft's metadata topic name (Kafka's Topic.CLUSTER_METADATA_TOPIC_NAME). In Tributary it
 * names the controller's metadata log, which is not a topic: the name is reserved, so no topic
 * can be created with it, and the log lives in its own directory (LogManager.openMetadataLog).
 */
export const METADATA_TOPIC = '__cluster_metadata'
