/**
 * Replication health for the metrics: counts this broker's partitions by health from the
 * metadata image (at scrape time, never on a request path), and counts ISR shrinks and
 * expansions of the partitions it leads as they are committed to the metadata.
 *
 * ISR changes are counted here, from the committed Partition records, rather than by the
 * replication layer when it asks for them: a committed record is seen exactly once by every
 * broker, whoever made the change (the leader's AlterPartition, or the controller removing a
 * fenced broker), and a refused or retried AlterPartition never counts. Like Kafka's
 * IsrShrinksPerSec / IsrExpandsPerSec, only the leader counts, and only while the leader stays
 * the same (an election that also changes the ISR is a leader change, not an ISR change).
 *
 * State: the last ISR seen per partition, keyed by topic id and partition; bounded by the
 * partitions in the image (a removed topic's entries go with its RemoveTopic record).
 */
import type { MetadataPublisher } from '../controller/controller.js'
import type { MetadataImage } from '../metadata/image.js'
import { partitionHealth } from '../metadata/partition-health.js'
import type { MetadataRecord } from '../metadata/records.js'
import type { ReplicationStatusSample } from '../metrics/metrics.js'

export interface ReplicationHealthOptions {
  nodeId: number
  image: MetadataImage
  /** True on the active controller, which alone reports offline partitions (as Kafka's). */
  isActiveController: () => boolean
  /** The topic's effective min.insync.replicas. */
  minInsyncReplicas: (topic: string) => number
  onIsrChange: (kind: 'shrink' | 'expand') => void
}

/** This broker's partitions counted by replication health, from the image. */
export function replicationStatus (options: ReplicationHealthOptions): ReplicationStatusSample {
  const { image, nodeId } = options
  const live = new Set(image.brokers.keys())
  const controller = options.isActiveController()
  const sample = { leaders: 0, underReplicated: 0, underMinIsr: 0, atMinIsr: 0, offline: 0 }
  for (const topic of image.topics()) {
    const minIsr = options.minInsyncReplicas(topic.name)
    for (const partition of topic.partitions) {
      const health = partitionHealth(partition, live, minIsr)
      if (controller && health.unavailable) sample.offline++
      if (partition.leader !== nodeId) continue
      sample.leaders++
      if (health.underReplicated) sample.underReplicated++
      if (health.underMinIsr) sample.underMinIsr++
      if (health.atMinIsr) sample.atMinIsr++
    }
  }
  return sample
}

/** Follows the metadata and reports each committed ISR change of a partition led here. */
export class IsrChangeCounter implements MetadataPublisher {
  readonly #options: ReplicationHealthOptions
  /** `${topicId}:${partition}` → the leader and ISR the last record set. */
  readonly #last = new Map<string, { leader: number, isr: readonly number[] }>()

  constructor (options: ReplicationHealthOptions) {
    this.#options = options
  }

  async publish (image: MetadataImage, records: readonly MetadataRecord[] | undefined):
  Promise<void> {
    if (records === undefined) {
      // Catching up: remember where every partition stands; nothing changed yet.
      this.#last.clear()
      for (const topic of image.topics()) {
        for (const p of topic.partitions) {
          this.#last.set(`${topic.topicId}:${p.partitionId}`, { leader: p.leader, isr: p.isr })
        }
      }
      return
    }
    for (const record of records) {
      if (record.type === 'RemoveTopic') this.#forgetTopic(record.topicId)
      if (record.type !== 'Partition') continue
      const key = `${record.topicId}:${record.partitionId}`
      const before = this.#last.get(key)
      this.#last.set(key, { leader: record.leader, isr: record.isr })
      if (before === undefined || before.leader !== record.leader ||
        record.leader !== this.#options.nodeId) continue
      if (before.isr.some(id => !record.isr.includes(id))) this.#options.onIsrChange('shrink')
      if (record.isr.some(id => !before.isr.includes(id))) this.#options.onIsrChange('expand')
    }
  }

  #forgetTopic (topicId: string): void {
    const prefix = `${topicId}:`
    for (const key of this.#last.keys()) if (key.startsWith(prefix)) this.#last.delete(key)
  }
}
