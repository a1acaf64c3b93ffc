/**
 * DescribeProducers (KIP-664): for each partition asked, the producers whose idempotence
 * state it keeps (producer id, epoch, last sequence and the timestamp of its last batch), as
 * Kafka's Partition.activeProducerState answers, with the first offset of its ongoing
 * transaction (-1: none) and the coordinator epoch of its newest marker here. Only the
 * partition's leader answers: elsewhere NOT_LEADER_OR_FOLLOWER, and a partition this broker
 * does not host UNKNOWN_TOPIC_OR_PARTITION.
 */
import {
  DescribeProducers, type DescribeProducersRequest, type DescribeProducersResponse,
} from '../../protocol/apis/describe-producers.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import { PartitionError } from '../replica-manager.js'
import type { HandlerEntry } from '../broker.js'

export const describeProducersHandler:
HandlerEntry<DescribeProducersRequest, DescribeProducersResponse> = {
  api: DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  async handle (broker, request) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map(topic => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map(partitionIndex => {
          let log
          try {
            // Kafka answers from the leader only (NOT_LEADER_OR_FOLLOWER elsewhere).
            log = broker.replicaManager.leaderLog(topic.name, partitionIndex)
          } catch (error) {
            if (!(error instanceof PartitionError)) throw error
            return { partitionIndex, errorCode: errorCodeOf(error.errorName),
              errorMessage: error.message, activeProducers: [] }
          }
          return {
            partitionIndex, errorCode: ERROR.NONE, errorMessage: null,
            activeProducers: log.activeProducers().map(producer => ({
              producerId: producer.producerId, producerEpoch: producer.epoch,
              lastSequence: producer.lastSequence, lastTimestamp: producer.lastTimestamp,
              // The newest coordinator epoch of its markers here (persisted in producer
              // state), so an admin abort passes it.
              coordinatorEpoch: producer.coordinatorEpoch,
              currentTxnStartOffset: producer.currentTxnStartOffset,
            })),
          }
        }),
      })),
    }
  },
}
