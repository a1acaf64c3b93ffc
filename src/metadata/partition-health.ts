/**
 * The replication health of one partition, from what the metadata says of it: the one
 * definition of "under-replicated", "unavailable", "under min ISR" and "at min ISR" that the
 * broker's metrics, `tributary topic describe --under-replicated-partitions` (and its siblings)
 * and `tributary cluster health` share. Pure: no I/O, no clock.
 *
 * Kafka's meanings (kafka.cluster.Partition and TopicCommand's PartitionDescription):
 * - under-replicated: the ISR is smaller than the replica set (UnderReplicatedPartitions);
 * - unavailable / offline: no leader (-1), or a leader that is not a live broker
 *   (OfflinePartitionsCount, `--unavailable-partitions`);
 * - under min ISR: fewer in-sync replicas than the topic's effective min.insync.replicas, so
 *   acks=all produce is refused (UnderMinIsrPartitionCount);
 * - at min ISR: exactly min.insync.replicas in sync, one more loss away from refusing acks=all
 *   (AtMinIsrPartitionCount, KIP-427).
 */

export interface PartitionReplicas {
  leader: number
  replicas: readonly number[]
  isr: readonly number[]
}

export interface PartitionHealth {
  underReplicated: boolean
  unavailable: boolean
  underMinIsr: boolean
  atMinIsr: boolean
}

/**
 * `liveBrokers`: the brokers with a live session (the metadata image's registered brokers, or
 * the brokers a Metadata response lists); `minInsyncReplicas`: the topic's effective value.
 */
export function partitionHealth (partition: PartitionReplicas,
  liveBrokers: ReadonlySet<number>, minInsyncReplicas: number): PartitionHealth {
  const inSync = partition.isr.length
  return {
    underReplicated: inSync < partition.replicas.length,
    unavailable: partition.leader < 0 || !liveBrokers.has(partition.leader),
    underMinIsr: inSync < minInsyncReplicas,
    atMinIsr: inSync === minInsyncReplicas,
  }
}
