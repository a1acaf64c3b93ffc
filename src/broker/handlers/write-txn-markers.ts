/**
 * WriteTxnMarkers (key 27, KIP-98): COMMIT/ABORT markers for the named partitions, as Kafka's
 * KafkaApis.handleWriteTxnMarkersRequest. A transaction coordinator on another broker sends it
 * to each partition leader (src/broker/txn-markers.ts, which also holds the partition side
 * this handler runs per partition: the coordinator-epoch fence, the control batch, and for a
 * `__consumer_offsets` partition the completion of the producer's pending transactional
 * offsets by its group coordinator); `kafka-transactions abort` and `tributary txn abort` send
 * it to end a hanging transaction on a partition.
 *
 * Advertised at version 1 only, as Kafka 4.1 (v0 was removed in 4.0, KIP-896).
 *
 * Per partition: an invalid topic name is INVALID_TOPIC_EXCEPTION, a partition not hosted here
 * UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER, a marker older than the producer's
 * epoch INVALID_PRODUCER_EPOCH, one from a deposed coordinator (older coordinator epoch)
 * TRANSACTION_COORDINATOR_FENCED. Other internal topics are refused
 * (TOPIC_AUTHORIZATION_FAILED), as for a transactional produce.
 *
 * Who may send it: Kafka requires CLUSTER_ACTION on the cluster resource, i.e. only brokers
 * (and admins with that ACL). This broker has no authentication, so it cannot tell a broker
 * from a client and serves it to any connection, as Kafka does with no authorizer configured;
 * the admin abort depends on that. The coordinator-epoch fence keeps a stale sender from ending
 * a transaction a newer coordinator already manages (docs/protocol.md).
 */
import {
  WriteTxnMarkers, type WriteTxnMarkersRequest, type WriteTxnMarkersResponse,
} from '../../protocol/apis/write-txn-markers.js'
import type { HandlerEntry } from '../broker.js'
import { writeTxnMarker } from '../txn-markers.js'

export const writeTxnMarkersHandler:
HandlerEntry<WriteTxnMarkersRequest, WriteTxnMarkersResponse> = {
  api: WriteTxnMarkers,
  minVersion: 1,
  maxVersion: 1,
  async handle (broker, request) {
    const markers: WriteTxnMarkersResponse['markers'] = []
    // Markers in request order: a later marker of the same producer lands after an earlier one.
    for (const marker of request.markers) {
      const topics = []
      for (const topic of marker.topics) {
        const partitions = await Promise.all(topic.partitionIndexes.map(async partitionIndex =>
          ({ partitionIndex,
            errorCode: await writeTxnMarker(broker, { topic: topic.name,
              partition: partitionIndex }, { producerId: marker.producerId,
              producerEpoch: marker.producerEpoch, commit: marker.transactionResult,
              coordinatorEpoch: marker.coordinatorEpoch }) })))
        topics.push({ name: topic.name, partitions })
      }
      markers.push({ producerId: marker.producerId, topics })
    }
    return { markers }
  },
}
