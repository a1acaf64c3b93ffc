/**
 * The transaction APIs a transactional producer sends to its coordinator (KIP-98):
 * AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, and TxnOffsetCommit (sent to the group's
 * coordinator; on one broker the same process). Each hands the request to the transaction
 * coordinator (src/txn/txn-coordinator.ts), which answers once its record is durable in
 * `__transaction_state`.
 *
 * Versions 0-3 (the codecs' range). Before v2 a fenced producer is told INVALID_PRODUCER_EPOCH:
 * PRODUCER_FENCED exists from v2 (KIP-588), as Kafka's handlers map it.
 */
import { AddOffsetsToTxn, type AddOffsetsToTxnRequest } from
  '../../protocol/apis/add-offsets-to-txn.js'
import { AddPartitionsToTxn, type AddPartitionsToTxnRequest } from
  '../../protocol/apis/add-partitions-to-txn.js'
import { EndTxn, type EndTxnRequest } from '../../protocol/apis/end-txn.js'
import { TxnOffsetCommit, type TxnOffsetCommitRequest } from
  '../../protocol/apis/txn-offset-commit.js'
import { ERROR } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import type { TransactionCoordinator } from '../../txn/txn-coordinator.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'

/** PRODUCER_FENCED only from `fencedFrom` (KIP-588); older clients know INVALID_PRODUCER_EPOCH. */
export function fencedForVersion (errorCode: number, version: number, fencedFrom = 2): number {
  return errorCode === ERROR.PRODUCER_FENCED && version < fencedFrom
    ? ERROR.INVALID_PRODUCER_EPOCH
    : errorCode
}

/** The coordinator, or the error for a request it cannot serve now. */
function coordinatorFor (broker: Broker, transactionalId: string):
TransactionCoordinator | number {
  const txn = broker.transactions
  if (txn === undefined) return ERROR.COORDINATOR_NOT_AVAILABLE
  const error = txn.coordinatorError(transactionalId)
  return error === ERROR.NONE ? txn : error
}

/** Why a partition cannot join a transaction, or NONE (Kafka's KafkaApis checks). */
function partitionError (broker: Broker, topic: string, partition: number): number {
  if (validateTopicName(topic) !== undefined) return ERROR.INVALID_TOPIC_EXCEPTION
  if (isInternalTopic(topic)) return ERROR.TOPIC_AUTHORIZATION_FAILED
  const count = broker.image.topic(topic)?.partitions.length ?? 0
  return partition >= 0 && partition < count ? ERROR.NONE : ERROR.UNKNOWN_TOPIC_OR_PARTITION
}

export const addPartitionsToTxnHandler: HandlerEntry = {
  api: AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle (broker, request: AddPartitionsToTxnRequest, context) {
    const topics = request.v3AndBelowTopics
    const answer = (codeOf: (topic: string, partition: number) => number) => ({
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: topics.map(topic => ({ name: topic.name,
        resultsByPartition: topic.partitions.map(partition => ({ partitionIndex: partition,
          partitionErrorCode: codeOf(topic.name, partition) })) })),
    })
    const txn = coordinatorFor(broker, request.v3AndBelowTransactionalId)
    if (typeof txn === 'number') return answer(() => txn)
    // Kafka: if any partition is bad, those get their error and the rest OPERATION_NOT_ATTEMPTED.
    const bad = topics.some(t => t.partitions.some(p => partitionError(broker, t.name, p) !==
      ERROR.NONE))
    if (bad) {
      return answer((topic, partition) => {
        const error = partitionError(broker, topic, partition)
        return error === ERROR.NONE ? ERROR.OPERATION_NOT_ATTEMPTED : error
      })
    }
    const errorCode = await txn.addPartitions(request.v3AndBelowTransactionalId,
      request.v3AndBelowProducerId, request.v3AndBelowProducerEpoch,
      topics.flatMap(t => t.partitions.map(partition => ({ topic: t.name, partition }))))
    return answer(() => fencedForVersion(errorCode, context.version))
  },
}

export const addOffsetsToTxnHandler: HandlerEntry = {
  api: AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle (broker, request: AddOffsetsToTxnRequest, context) {
    const txn = coordinatorFor(broker, request.transactionalId)
    if (typeof txn === 'number') return { throttleTimeMs: 0, errorCode: txn }
    if (request.groupId === '') return { throttleTimeMs: 0, errorCode: ERROR.INVALID_GROUP_ID }
    const errorCode = await txn.addOffsets(request.transactionalId, request.producerId,
      request.producerEpoch, request.groupId)
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, context.version) }
  },
}

export const endTxnHandler: HandlerEntry = {
  api: EndTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle (broker, request: EndTxnRequest, context) {
    const txn = coordinatorFor(broker, request.transactionalId)
    const errorCode = typeof txn === 'number'
      ? txn
      : await txn.endTxn(request.transactionalId, request.producerId, request.producerEpoch,
        request.committed)
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, context.version),
      producerId: -1, producerEpoch: -1 }
  },
}

/**
 * TxnOffsetCommit: the offsets are staged in the transaction and reach the group only when
 * its commit marker is written (Kafka keeps them pending in the group coordinator until then).
 */
export const txnOffsetCommitHandler: HandlerEntry = {
  api: TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 3,
  async handle (broker, request: TxnOffsetCommitRequest, context) {
    const answer = (codeOf: (topic: string, partition: number) => number) => ({
      throttleTimeMs: 0,
      topics: request.topics.map(topic => ({ name: topic.name,
        partitions: topic.partitions.map(p => ({ partitionIndex: p.partitionIndex,
          errorCode: codeOf(topic.name, p.partitionIndex) })) })),
    })
    if (request.groupId === '') return answer(() => ERROR.INVALID_GROUP_ID)
    const groupError = broker.groups?.coordinatorError(request.groupId) ??
      ERROR.COORDINATOR_NOT_AVAILABLE
    if (groupError !== ERROR.NONE) return answer(() => groupError)
    const txn = coordinatorFor(broker, request.transactionalId)
    if (typeof txn === 'number') return answer(() => txn)
    const unknown = (topic: string, partition: number): boolean =>
      partition < 0 || partition >= (broker.image.topic(topic)?.partitions.length ?? 0)
    const offsets = request.topics.flatMap(topic => topic.partitions
      .filter(p => !unknown(topic.name, p.partitionIndex))
      .map(p => ({ groupId: request.groupId, topic: topic.name, partition: p.partitionIndex,
        offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch,
        metadata: p.committedMetadata })))
    const errorCode = offsets.length === 0
      ? ERROR.NONE
      : await txn.stageOffsets(request.transactionalId, request.producerId,
        request.producerEpoch, offsets)
    return answer((topic, partition) => unknown(topic, partition)
      ? ERROR.UNKNOWN_TOPIC_OR_PARTITION
      : fencedForVersion(errorCode, context.version))
  },
}

export const TRANSACTION_HANDLERS: HandlerEntry[] = [addPartitionsToTxnHandler,
  addOffsetsToTxnHandler, endTxnHandler, txnOffsetCommitHandler]
