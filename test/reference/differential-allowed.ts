/**
 * The differences from Apache Kafka 4.1 that Tributary keeps on purpose: `scenario:path` as
 * differential-compare.ts names it, what Tributary answers there (JSON), and why.
 * docs/protocol.md ("Differences from Apache Kafka") names every key here; differential.test.ts
 * fails on a difference not listed, on a listed one that no longer occurs or whose Tributary
 * answer changed, and on a key the page does not name.
 */
export interface DocumentedDifference {
  /** Tributary's answer at that path, as JSON. */
  tributary: string
  reason: string
}

export const DOCUMENTED_DIFFERENCES: ReadonlyMap<string, DocumentedDifference> = new Map([
  ['api-versions:supportedFeatures', {
    tributary: '["metadata.version"]',
    reason: 'only metadata.version is a feature Tributary implements; transaction.version and ' +
      'group.version are left out so clients keep the classic transaction and group protocols, ' +
      'and kraft.version, eligible.leader.replicas.version and share.version describe KRaft ' +
      'quorums, ELR and share groups, which Tributary does not have',
  }],
  ['api-versions:finalizedFeatures', {
    tributary: '["metadata.version"]',
    reason: 'as supportedFeatures',
  }],
  ['api-versions:ranges.Produce[0]', {
    tributary: '3',
    reason: 'Kafka 4 advertises Produce from v0 (KAFKA-18659, for librdkafka versions that gate ' +
      'compression on it) while it closes the connection on a v0-v2 request, as Tributary ' +
      'does; Tributary advertises only what it serves, and the tested librdkafka clients ' +
      'compress against 3-13',
  }],
  ['auto-create:first.error', {
    tributary: '"NONE"',
    reason: 'Tributary creates an auto-created topic before answering, so the first Metadata ' +
      'answer already has it; a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION first and ' +
      'creates it in the background, which kafkajs does not retry',
  }],
  ['auto-create:first.partitions', {
    tributary: '1',
    reason: 'as auto-create:first.error',
  }],
  ['create-topics-errors:created.configs.min.insync.replicas.source', {
    tributary: '5',
    reason: 'as config-descriptions:configs.min.insync.replicas.source',
  }],
  ['alter-configs-errors:incrementalBadOperation', {
    tributary: '"INVALID_REQUEST"',
    reason: 'an unknown config_operation fails inside Kafka (UNKNOWN_SERVER_ERROR); Tributary ' +
      'names the client\'s mistake',
  }],
  ['config-descriptions:configs.min.insync.replicas.source', {
    tributary: '5',
    reason: 'Kafka 4\'s KRaft bootstrap stores min.insync.replicas as a cluster-wide dynamic ' +
      'default (DYNAMIC_DEFAULT_BROKER_CONFIG, 3); Tributary has no dynamic broker configs, so ' +
      'the same value is a DEFAULT_CONFIG (5)',
  }],
  ['config-descriptions:configs.min.insync.replicas.synonyms', {
    tributary: '[{"name":"min.insync.replicas","source":5,"value":"1"}]',
    reason: 'as min.insync.replicas.source: no dynamic default synonym',
  }],
  ['config-descriptions:configs.retention.ms.synonyms', {
    tributary: '[{"name":"retention.ms","source":1,"value":"3600000"},' +
      '{"name":"log.retention.ms","source":5,"value":"604800000"}]',
    reason: 'Kafka\'s log.retention.ms has no default (it falls back to log.retention.hours), ' +
      'so Kafka lists no broker synonym; Tributary has no log.retention.hours and gives ' +
      'log.retention.ms its 7-day default, which it lists',
  }],
])
