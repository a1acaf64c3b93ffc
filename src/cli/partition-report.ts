/**
 * The replication state of every partition of some topics (or all), as a client sees it:
 * Metadata for leaders, replicas, ISR and the live brokers; DescribeConfigs for each topic's
 * effective min.insync.replicas. Shared by `tributary topic describe --under-replicated-
 * partitions` (and its siblings) and `tributary cluster health`, with the one classification
 * of src/metadata/partition-health.ts.
 */
import type { KafkaClient } from '../client/client.js'
import { RESOURCE_TYPE_TOPIC } from '../client/client.js'
import { KafkaClientError } from '../client/errors.js'
import { partitionHealth, type PartitionHealth } from '../metadata/partition-health.js'
import { DescribeConfigs } from '../protocol/apis/describe-configs.js'
import type { MetadataResponse } from '../protocol/apis/metadata.js'
import { ERROR } from '../protocol/errors.js'

export interface PartitionState {
  topic: string
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
  minIsr: number
  health: PartitionHealth
}

/** Topics per DescribeConfigs request: one round trip for most clusters, bounded for large. */
const TOPICS_PER_DESCRIBE = 100

/**
 * Every partition of `topics` (null: all topics), in topic then partition order. A named topic
 * that does not exist is a KafkaClientError (UNKNOWN_TOPIC_OR_PARTITION).
 */
export async function partitionStates (client: KafkaClient, topics: string[] | null):
Promise<PartitionState[]> {
  return partitionStatesOf(client, await client.metadata(topics))
}

/** The same, from a Metadata answer the caller already has. */
export async function partitionStatesOf (client: KafkaClient, metadata: MetadataResponse):
Promise<PartitionState[]> {
  const live = new Set(metadata.brokers.map(broker => broker.nodeId))
  const found = metadata.topics.filter(topic => topic.name !== null)
  for (const topic of found) {
    if (topic.errorCode !== ERROR.NONE) {
      throw new KafkaClientError(topic.errorCode, `topic ${String(topic.name)}`)
    }
  }
  const names = found.map(topic => topic.name as string).sort()
  const minIsr = await minInsyncReplicas(client, names)
  const states: PartitionState[] = []
  for (const topic of [...found].sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
    const name = topic.name as string
    const topicMinIsr = minIsr.get(name) ?? 1
    for (const p of [...topic.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) {
      // Kafka answers a partition without a leader with LEADER_NOT_AVAILABLE and leader -1.
      const leader = p.errorCode === ERROR.LEADER_NOT_AVAILABLE ? -1 : p.leaderId
      const replicas = [...p.replicaNodes]
      const isr = [...p.isrNodes]
      states.push({ topic: name, partition: p.partitionIndex, leader, replicas, isr,
        minIsr: topicMinIsr,
        health: partitionHealth({ leader, replicas, isr }, live, topicMinIsr) })
    }
  }
  return states
}

/** Each topic's effective min.insync.replicas (its override, else the broker default). */
async function minInsyncReplicas (client: KafkaClient, topics: string[]):
Promise<Map<string, number>> {
  const values = new Map<string, number>()
  const connection = await client.any()
  for (let first = 0; first < topics.length; first += TOPICS_PER_DESCRIBE) {
    const response = await connection.send(DescribeConfigs, {
      resources: topics.slice(first, first + TOPICS_PER_DESCRIBE).map(resourceName => ({
        resourceType: RESOURCE_TYPE_TOPIC, resourceName,
        configurationKeys: ['min.insync.replicas'],
      })),
      includeSynonyms: false, includeDocumentation: false,
    })
    for (const result of response.results) {
      const value = Number(result.configs.find(c => c.name === 'min.insync.replicas')?.value)
      // A topic deleted since the Metadata answer has no configs: it has no partitions either.
      if (result.errorCode === ERROR.NONE && Number.isSafeInteger(value)) {
        values.set(result.resourceName, value)
      }
    }
  }
  return values
}

/** `t-0, t-3, u-1` and "and N more" past `shown`: the first few of a list of partitions. */
export function partitionList (states: readonly PartitionState[], shown = 5): string {
  const names = states.slice(0, shown).map(s => `${s.topic}-${s.partition}`)
  if (states.length > shown) names.push(`and ${states.length - shown} more`)
  return names.join(', ')
}
