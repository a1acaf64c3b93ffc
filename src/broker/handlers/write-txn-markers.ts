/**
 * WriteTxnMarkers (key 27, KIP-98): COMMIT/ABORT control batches appended to the named
 * partitions, as Kafka's KafkaApis.handleWriteTxnMarkersRequest does. Kafka's coordinators send
 * it broker to broker; on one broker the coordinator appends its markers locally
 * (src/broker/txn-markers.ts), so here it is what `kafka-transactions abort` (and
 * `tributary txn abort`) sends to end a hanging transaction on a partition.
 *
 * Advertised at version 1 only, as Kafka 4.1 (v0 was removed in 4.0, KIP-896).
 *
 * Per partition: an invalid topic name is INVALID_TOPIC_EXCEPTION, a partition not hosted here
 * UNKNOWN_TOPIC_OR_PARTITION, a marker older than the producer's epoch INVALID_PRODUCER_EPOCH
 * (the partition's own check). `__consumer_offsets` partitions carry no control batch here:
 * offsets staged in a transaction live in the coordinator, so an ABORT there has nothing to
 * drop (NONE) and a COMMIT, which only the coordinator can complete, is INVALID_TXN_STATE.
 * Other internal topics are refused (TOPIC_AUTHORIZATION_FAILED), as for a transactional
 * produce. The coordinator epoch is not checked: this broker keeps none per producer.
 */
import {
  WriteTxnMarkers, type WritableTxnMarker, type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from '../../protocol/apis/write-txn-markers.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { CONSUMER_OFFSETS_TOPIC, isInternalTopic } from '../internal-topics.js'
import { PartitionError } from '../replica-manager.js'

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
            errorCode: await writeMarker(broker, marker, topic.name, partitionIndex) })))
        topics.push({ name: topic.name, partitions })
      }
      markers.push({ producerId: marker.producerId, topics })
    }
    return { markers }
  },
}

async function writeMarker (broker: Broker, marker: WritableTxnMarker, topic: string,
  partition: number): Promise<number> {
  if (validateTopicName(topic) !== undefined) return ERROR.INVALID_TOPIC_EXCEPTION
  if (topic === CONSUMER_OFFSETS_TOPIC) {
    return marker.transactionResult ? ERROR.INVALID_TXN_STATE : ERROR.NONE
  }
  if (isInternalTopic(topic)) return ERROR.TOPIC_AUTHORIZATION_FAILED
  const count = broker.image.topic(topic)?.partitions.length ?? 0
  if (partition < 0 || partition >= count) return ERROR.UNKNOWN_TOPIC_OR_PARTITION
  try {
    await broker.replicaManager.appendTxnMarker(topic, partition, {
      producerId: marker.producerId, producerEpoch: marker.producerEpoch,
      commit: marker.transactionResult, coordinatorEpoch: marker.coordinatorEpoch,
    })
    return ERROR.NONE
  } catch (error) {
    if (error instanceof PartitionError) return errorCodeOf(error.errorName)
    broker.logger.warn(`WriteTxnMarkers on ${topic}-${partition} failed: ` +
      `${(error as Error).message}`)
    return ERROR.UNKNOWN_SERVER_ERROR
  }
}
