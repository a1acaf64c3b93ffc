/**
 * The transaction APIs a transactional producer sends to its coordinator (KIP-98):
 * AddPartitionsToTxn, AddOffsetsToTxn and EndTxn go to the transaction coordinator
 * (src/txn/txn-coordinator.ts), which answers once its record is durable in
 * `__transaction_state`; TxnOffsetCommit goes to the group's coordinator, which stages the
 * offsets until the transaction's marker decides them.
 *
 * Served up to Kafka 4.1's maxima. Before v2 a fenced producer is told INVALID_PRODUCER_EPOCH:
 * PRODUCER_FENCED exists from v2 (KIP-588), as Kafka's handlers map it. The KIP-890 versions
 * (AddOffsetsToTxn 4, EndTxn 4-5, TxnOffsetCommit 4-5, AddPartitionsToTxn 5) may answer
 * TRANSACTION_ABORTABLE, which this broker never needs to; EndTxn and TxnOffsetCommit v5 are
 * only sent by clients that see transaction.version 2, which is not advertised.
 */
import { AddOffsetsToTxn, type AddOffsetsToTxnRequest } from
  '../../protocol/apis/add-offsets-to-txn.js'
import {
  AddPartitionsToTxn, type AddPartitionsToTxnRequest, type AddPartitionsToTxnTransaction,
} from '../../protocol/apis/add-partitions-to-txn.js'
import { EndTxn, type EndTxnRequest } from '../../protocol/apis/end-txn.js'
import { TxnOffsetCommit, type TxnOffsetCommitRequest } from
  '../../protocol/apis/txn-offset-commit.js'
import { ERROR } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import type { TransactionCoordinator } from '../../txn/txn-coordinator.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { CONSUMER_OFFSETS_TOPIC, isInternalTopic } from '../internal-topics.js'
import { verifyTransaction } from '../txn-verification.js'

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

type TopicResult = { name: string,
  resultsByPartition: { partitionIndex: number, partitionErrorCode: number }[] }

/**
 * One transaction's partitions joining it (v0-3: the producer's own request), or, from v4
 * (KIP-890's batched broker-to-broker form), being verified (`verify_only`: NONE for each
 * partition already in the ongoing transaction) or added, transaction by transaction.
 */
export const addPartitionsToTxnHandler: HandlerEntry = {
  api: AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 5,
  async handle (broker, request: AddPartitionsToTxnRequest, context) {
    if (context.version < 4) {
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: await addToTransaction(broker, {
        transactionalId: request.v3AndBelowTransactionalId,
        producerId: request.v3AndBelowProducerId,
        producerEpoch: request.v3AndBelowProducerEpoch,
        verifyOnly: false,
        topics: request.v3AndBelowTopics,
      }, context.version) }
    }
    const resultsByTransaction = []
    for (const transaction of request.transactions ?? []) {
      resultsByTransaction.push({ transactionalId: transaction.transactionalId,
        topicResults: await addToTransaction(broker, transaction, context.version) })
    }
    return { throttleTimeMs: 0, errorCode: ERROR.NONE, resultsByTransaction,
      resultsByTopicV3AndBelow: [] }
  },
}

async function addToTransaction (broker: Broker, transaction: AddPartitionsToTxnTransaction,
  version: number): Promise<TopicResult[]> {
  const { transactionalId, producerId, producerEpoch, topics } = transaction
  const answer = (codeOf: (topic: string, partition: number) => number): TopicResult[] =>
    topics.map(topic => ({ name: topic.name,
      resultsByPartition: topic.partitions.map(partition => ({ partitionIndex: partition,
        partitionErrorCode: codeOf(topic.name, partition) })) }))
  const txn = coordinatorFor(broker, transactionalId)
  if (typeof txn === 'number') return answer(() => txn)
  if (transaction.verifyOnly) {
    return answer((topic, partition) =>
      txn.verification(transactionalId, producerId, producerEpoch, { topic, partition }))
  }
  // Kafka: if any partition is bad, those get their error and the rest OPERATION_NOT_ATTEMPTED.
  const bad = topics.some(t => t.partitions.some(p => partitionError(broker, t.name, p) !==
    ERROR.NONE))
  if (bad) {
    return answer((topic, partition) => {
      const error = partitionError(broker, topic, partition)
      return error === ERROR.NONE ? ERROR.OPERATION_NOT_ATTEMPTED : error
    })
  }
  const errorCode = await txn.addPartitions(transactionalId, producerId, producerEpoch,
    topics.flatMap(t => t.partitions.map(partition => ({ topic: t.name, partition }))))
  return answer(() => fencedForVersion(errorCode, version))
}

export const addOffsetsToTxnHandler: HandlerEntry = {
  api: AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
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
  maxVersion: 5,
  async handle (broker, request: EndTxnRequest, context) {
    const txn = coordinatorFor(broker, request.transactionalId)
    const errorCode = typeof txn === 'number'
      ? txn
      : await txn.endTxn(request.transactionalId, request.producerId, request.producerEpoch,
        request.committed)
    // v5 (KIP-890 part 2) answers the producer id and epoch to use next. Without
    // transaction.version 2 (not advertised) the epoch is not bumped per transaction, so they
    // are the request's own.
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, context.version),
      producerId: errorCode === ERROR.NONE ? request.producerId : -1,
      producerEpoch: errorCode === ERROR.NONE ? request.producerEpoch : -1 }
  },
}

/**
 * TxnOffsetCommit, sent to the group's coordinator (which may not be the transaction's): the
 * offsets are staged there (GroupCoordinator.stageTransactionalOffsets) and reach the group
 * only when the transaction's COMMIT marker on the group's `__consumer_offsets` partition
 * completes them. Verified first with the transaction coordinator like a transactional produce
 * (KIP-890 part 1): the group's partition must be in the ongoing transaction (AddOffsetsToTxn),
 * so a late TxnOffsetCommit cannot stage offsets no marker will ever decide. Then the member
 * fields of v3+ are checked against the group (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
 * ILLEGAL_GENERATION; KIP-447).
 */
export const txnOffsetCommitHandler: HandlerEntry = {
  api: TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 5,
  async handle (broker, request: TxnOffsetCommitRequest, context) {
    const answer = (codeOf: (topic: string, partition: number) => number) => ({
      throttleTimeMs: 0,
      topics: request.topics.map(topic => ({ name: topic.name,
        partitions: topic.partitions.map(p => ({ partitionIndex: p.partitionIndex,
          errorCode: codeOf(topic.name, p.partitionIndex) })) })),
    })
    if (request.groupId === '') return answer(() => ERROR.INVALID_GROUP_ID)
    const groups = broker.groups
    const groupError = groups?.coordinatorError(request.groupId) ??
      ERROR.COORDINATOR_NOT_AVAILABLE
    if (groups === undefined || groupError !== ERROR.NONE) return answer(() => groupError)
    const unknown = (topic: string, partition: number): boolean =>
      partition < 0 || partition >= (broker.image.topic(topic)?.partitions.length ?? 0)
    const offsets = request.topics.flatMap(topic => topic.partitions
      .filter(p => !unknown(topic.name, p.partitionIndex))
      .map(p => ({ topic: topic.name, partition: p.partitionIndex,
        offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch,
        metadata: p.committedMetadata })))
    let errorCode: number = ERROR.NONE
    if (offsets.length > 0) {
      const verification = await verifyTransaction(broker, request.transactionalId,
        request.producerId, request.producerEpoch,
        { topic: CONSUMER_OFFSETS_TOPIC, partition: groups.partitionFor(request.groupId) })
      errorCode = verifiedError(verification.errorCode)
      if (errorCode === ERROR.NONE) {
        // v3+ name the consumer's member and generation (KIP-447): a zombie consumer's
        // offsets are refused like its OffsetCommit would be (older versions decode the
        // defaults, -1 and empty, which skip the check).
        errorCode = verifiedError(await groups.stageTransactionalOffsets(request.groupId,
          request.producerId, request.producerEpoch, offsets, { memberId: request.memberId,
            groupInstanceId: request.groupInstanceId, generationId: request.generationId },
          verification.guard))
      }
    }
    return answer((topic, partition) => unknown(topic, partition)
      ? ERROR.UNKNOWN_TOPIC_OR_PARTITION
      : fencedForVersion(errorCode, context.version))
  },
}

/**
 * A verification's answer as TxnOffsetCommit's: a fenced producer is PRODUCER_FENCED (mapped
 * per version), no coordinator reachable COORDINATOR_NOT_AVAILABLE (retried by producers), the
 * group's partition not in the transaction INVALID_TXN_STATE.
 */
function verifiedError (errorCode: number): number {
  if (errorCode === ERROR.INVALID_PRODUCER_EPOCH) return ERROR.PRODUCER_FENCED
  if (errorCode === ERROR.NOT_ENOUGH_REPLICAS) return ERROR.COORDINATOR_NOT_AVAILABLE
  return errorCode
}

export const TRANSACTION_HANDLERS: HandlerEntry[] = [addPartitionsToTxnHandler,
  addOffsetsToTxnHandler, endTxnHandler, txnOffsetCommitHandler]
