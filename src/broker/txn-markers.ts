/**
 * Transaction markers, both sides (Kafka's TransactionMarkerChannelManager and the partition
 * side of KafkaApis.handleWriteTxnMarkersRequest).
 *
 * Partition side, `writeTxnMarker`: the one path a COMMIT/ABORT reaches a partition this broker
 * leads, for the local coordinator and for WriteTxnMarkers alike. The partition gets a control
 * batch, as in Kafka: its log refuses an older producer epoch (INVALID_PRODUCER_EPOCH) and a
 * coordinator epoch older than the producer's newest marker there
 * (TRANSACTION_COORDINATOR_FENCED), from its producer state, which snapshots, replays and
 * replication carry across restarts and failovers. On a `__consumer_offsets` partition (whose
 * loader skips control batches), once the marker is written, its group coordinator completes
 * the producer's pending transactional offsets
 * (committed to their groups on COMMIT, dropped on ABORT; Kafka's
 * GroupCoordinator.onTransactionCompleted), which answers NOT_LEADER_OR_FOLLOWER where this
 * broker does not coordinate that partition.
 *
 * Coordinator side, `txnMarkerChannel`: each partition's marker goes to its leader in the
 * metadata image: this broker → `writeTxnMarker`; another broker → one WriteTxnMarkers request
 * per leader over the pooled inter-broker connections (bounded in flight, with a timeout). The
 * partitions not written are handed back and the coordinator retries them with backoff, looking
 * the leader up afresh each time (NOT_LEADER_OR_FOLLOWER, a dead broker, a timeout). A
 * partition whose topic is gone counts as written (Kafka drops markers for deleted partitions),
 * and so does one that refused the marker as stale (INVALID_PRODUCER_EPOCH: a newer epoch of the
 * producer already wrote there; Kafka abandons it too).
 */
import { WriteTxnMarkers } from '../protocol/apis/write-txn-markers.js'
import { ERROR, errorByCode, errorCodeOf } from '../protocol/errors.js'
import { validateTopicName } from '../protocol/topic-name.js'
import type {
  TopicPartition, TxnMarker, TxnMarkerChannel,
} from '../txn/txn-coordinator.js'
import type { Broker } from './broker.js'
import { CONSUMER_OFFSETS_TOPIC, isInternalTopic } from './internal-topics.js'
import { PartitionError } from './replica-manager.js'
import { leaderTerm } from './txn-marker-ledger.js'

/** One marker on one partition this broker leads; resolves with the error code (NONE). */
export async function writeTxnMarker (broker: Broker, tp: TopicPartition,
  marker: Omit<TxnMarker, 'partitions'>): Promise<number> {
  const { topic, partition } = tp
  if (validateTopicName(topic) !== undefined) return ERROR.INVALID_TOPIC_EXCEPTION
  if (isInternalTopic(topic) && topic !== CONSUMER_OFFSETS_TOPIC) {
    return ERROR.TOPIC_AUTHORIZATION_FAILED
  }
  const count = broker.image.topic(topic)?.partitions.length ?? 0
  if (partition < 0 || partition >= count) return ERROR.UNKNOWN_TOPIC_OR_PARTITION
  const term = leaderTerm(broker.image, topic, partition)
  if (term !== undefined) broker.txnMarkers.markerStarting(term, marker.producerId)
  const errorCode = await appendMarker(broker, tp, marker)
  if (errorCode !== ERROR.NONE || topic !== CONSUMER_OFFSETS_TOPIC) return errorCode
  // The marker is durable (so its coordinator epoch fences from now on, there and on the
  // partition's next leader); the offsets it decides are completed now, and again by the
  // coordinator's retry of the marker if this fails.
  return completeOffsets(broker, partition, marker)
}

async function appendMarker (broker: Broker, { topic, partition }: TopicPartition,
  marker: Omit<TxnMarker, 'partitions'>): Promise<number> {
  try {
    // In a cluster this waits for the ISR (acks=all, as Kafka's markers): the answer means the
    // marker survives its leader's loss.
    await broker.replicaManager.appendTxnMarker(topic, partition, marker)
    return ERROR.NONE
  } catch (error) {
    if (error instanceof PartitionError) return errorCodeOf(error.errorName)
    broker.logger.warn(`transaction marker on ${topic}-${partition} failed: ` +
      `${(error as Error).message}`)
    return ERROR.UNKNOWN_SERVER_ERROR
  }
}

async function completeOffsets (broker: Broker, partition: number,
  marker: Omit<TxnMarker, 'partitions'>): Promise<number> {
  const groups = broker.groups
  if (groups === undefined) return ERROR.COORDINATOR_NOT_AVAILABLE
  const errorCode = await groups.completeTransaction(partition, marker.producerId,
    marker.commit)
  // WriteTxnMarkers speaks of partitions: the group coordinator's "not here" is the
  // partition's (Kafka appends the marker to that partition and gets the same).
  return errorCode === ERROR.NOT_COORDINATOR ? ERROR.NOT_LEADER_OR_FOLLOWER : errorCode
}

export function txnMarkerChannel (broker: Broker): TxnMarkerChannel {
  return {
    async send (marker: TxnMarker): Promise<TopicPartition[]> {
      const failed: TopicPartition[] = []
      const remote = new Map<number, TopicPartition[]>()
      const local: Promise<void>[] = []
      for (const tp of marker.partitions) {
        const topic = broker.image.topic(tp.topic)
        if (topic === undefined) continue // Deleted: nothing left to mark.
        const leader = topic.partitions[tp.partition]?.leader ?? -1
        if (broker.brokerConnections === undefined || leader === broker.settings.nodeId) {
          local.push(writeTxnMarker(broker, tp, marker).then(errorCode => {
            if (!written(broker, tp, errorCode)) failed.push(tp)
          }))
        } else if (leader < 0) {
          failed.push(tp) // No leader now: retried once one is elected.
        } else {
          const forLeader = remote.get(leader)
          if (forLeader === undefined) remote.set(leader, [tp])
          else forLeader.push(tp)
        }
      }
      await Promise.all([...local, ...[...remote].map(async ([leader, partitions]) => {
        for (const tp of await sendRemote(broker, leader, marker, partitions)) failed.push(tp)
      })])
      return failed
    },
  }
}

/** WriteTxnMarkers to one leader; resolves with the partitions not written. */
async function sendRemote (broker: Broker, leader: number, marker: TxnMarker,
  partitions: TopicPartition[]): Promise<TopicPartition[]> {
  const connections = broker.brokerConnections
  if (connections === undefined) return partitions
  const byTopic = new Map<string, number[]>()
  for (const tp of partitions) {
    const indexes = byTopic.get(tp.topic)
    if (indexes === undefined) byTopic.set(tp.topic, [tp.partition])
    else indexes.push(tp.partition)
  }
  let response
  try {
    response = await connections.send(leader, WriteTxnMarkers, { markers: [{
      producerId: marker.producerId, producerEpoch: marker.producerEpoch,
      transactionResult: marker.commit, coordinatorEpoch: marker.coordinatorEpoch,
      topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    }] }, { version: 1 })
  } catch (error) {
    broker.logger.warn(`transaction markers to broker ${leader} failed (` +
      `${(error as Error).message}); retrying`)
    return partitions
  }
  const codes = new Map<string, number>()
  for (const topic of response.markers[0]?.topics ?? []) {
    for (const p of topic.partitions) codes.set(`${topic.name}\u0000${p.partitionIndex}`,
      p.errorCode)
  }
  return partitions.filter(tp => !written(broker, tp,
    codes.get(`${tp.topic}\u0000${tp.partition}`) ?? ERROR.UNKNOWN_SERVER_ERROR))
}

/** Whether a partition's answer ends its marker's retries. */
function written (broker: Broker, tp: TopicPartition, errorCode: number): boolean {
  if (errorCode === ERROR.NONE) return true
  const deleted = broker.image.topic(tp.topic) === undefined
  if (errorCode === ERROR.UNKNOWN_TOPIC_OR_PARTITION && deleted) return true
  const name = errorByCode(errorCode)?.name ?? String(errorCode)
  if (errorCode === ERROR.INVALID_PRODUCER_EPOCH) {
    broker.logger.warn(`transaction marker for ${tp.topic}-${tp.partition} dropped: a newer ` +
      `producer epoch already wrote there (${name})`)
    return true
  }
  broker.logger.warn(`transaction marker for ${tp.topic}-${tp.partition} not written (${name}); ` +
    'retrying')
  return false
}
