/**
 * KIP-890 part 1, transaction verification, asked by a partition leader before it appends a
 * transactional batch (Produce) or stages transactional offsets (TxnOffsetCommit): is this
 * partition in the producer's ongoing transaction, in its current epoch?
 *
 * The transactional id's coordinator answers: this broker's own, in process, when it
 * coordinates the id; otherwise the leader of the id's `__transaction_state` partition, asked
 * with AddPartitionsToTxn v4 `verify_only` over the inter-broker connections (Kafka's
 * AddPartitionsToTxnManager; it batches per coordinator, this sends one request per partition).
 *
 * Answers: NONE, INVALID_PRODUCER_EPOCH (a fenced producer), INVALID_TXN_STATE (not in an
 * ongoing transaction), or NOT_ENOUGH_REPLICAS when no coordinator answered (none elected, it
 * is loading, moved, or the request failed): Kafka's AddPartitionsToTxnManager maps those to
 * NOT_ENOUGH_REPLICAS, an error every producer retries.
 *
 * `guard` is the re-check run as offsets are assigned (Kafka's VerificationGuard): in process
 * it asks the coordinator again; after a remote answer it refuses if any marker for the producer
 * landed on the partition since the verification began (src/broker/txn-marker-ledger.ts), since
 * the transaction it was verified for has then ended, and asks for a retry if the partition's
 * leadership term changed meanwhile. A remote verification is remembered
 * until the next marker for the producer on the partition, so only the first batch of a
 * transaction on a partition costs a request (as Kafka verifies only when no transaction of
 * the producer is ongoing there).
 */
import { partitionForGroup } from '../group/offsets-store.js'
import { AddPartitionsToTxn } from '../protocol/apis/add-partitions-to-txn.js'
import { ERROR } from '../protocol/errors.js'
import type { TopicPartition } from '../txn/txn-coordinator.js'
import type { Broker } from './broker.js'
import { TRANSACTION_STATE_TOPIC } from './internal-topics.js'
import { leaderTerm } from './txn-marker-ledger.js'

export interface TxnVerification {
  /** NONE, INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE or NOT_ENOUGH_REPLICAS. */
  errorCode: number
  /** Re-run as the offsets are assigned: NONE while the verification still holds. */
  guard: () => number
}

const COORDINATOR_ERRORS: ReadonlySet<number> = new Set([ERROR.COORDINATOR_NOT_AVAILABLE,
  ERROR.NOT_COORDINATOR, ERROR.COORDINATOR_LOAD_IN_PROGRESS])

/** The verification's error in the form a leader answers with (see the module comment). */
function leaderError (errorCode: number): number {
  if (errorCode === ERROR.NONE || errorCode === ERROR.INVALID_PRODUCER_EPOCH) return errorCode
  if (COORDINATOR_ERRORS.has(errorCode)) return ERROR.NOT_ENOUGH_REPLICAS
  if (errorCode === ERROR.PRODUCER_FENCED) return ERROR.INVALID_PRODUCER_EPOCH
  return ERROR.INVALID_TXN_STATE
}

export async function verifyTransaction (broker: Broker, transactionalId: string,
  producerId: number, producerEpoch: number, tp: TopicPartition): Promise<TxnVerification> {
  const local = (): number => {
    const txn = broker.transactions
    if (txn === undefined) return ERROR.COORDINATOR_NOT_AVAILABLE
    const error = txn.coordinatorError(transactionalId)
    return error !== ERROR.NONE ? error
      : txn.verification(transactionalId, producerId, producerEpoch, tp)
  }
  const connections = broker.brokerConnections
  const txnTopic = broker.image.topic(TRANSACTION_STATE_TOPIC)
  const coordinator = txnTopic === undefined ? -1
    : txnTopic.partitions[partitionForGroup(transactionalId, txnTopic.partitions.length)]
      ?.leader ?? -1
  if (connections === undefined || coordinator === broker.settings.nodeId) {
    return { errorCode: leaderError(local()), guard: () => leaderError(local()) }
  }
  const ledger = broker.txnMarkers
  const term = leaderTerm(broker.image, tp.topic, tp.partition)
  const markers = term === undefined ? 0 : ledger.markers(term, producerId)
  const guard = (): number => {
    // Leadership moved meanwhile (markers another leader wrote are not counted here): the
    // verification no longer vouches; retriable, the producer verifies afresh.
    if (term === undefined || leaderTerm(broker.image, tp.topic, tp.partition) !== term) {
      return ERROR.NOT_ENOUGH_REPLICAS
    }
    return ledger.markers(term, producerId) === markers ? ERROR.NONE : ERROR.INVALID_TXN_STATE
  }
  // Verified before in this term and epoch and no marker since: the same transaction goes on.
  if (term !== undefined && ledger.stillVerified(term, producerId, producerEpoch)) {
    return { errorCode: ERROR.NONE, guard }
  }
  if (coordinator < 0) return { errorCode: ERROR.NOT_ENOUGH_REPLICAS, guard: () => ERROR.NONE }
  let errorCode: number
  try {
    const response = await connections.send(coordinator, AddPartitionsToTxn, {
      transactions: [{ transactionalId, producerId, producerEpoch, verifyOnly: true,
        topics: [{ name: tp.topic, partitions: [tp.partition] }] }],
      v3AndBelowTransactionalId: '', v3AndBelowProducerId: -1, v3AndBelowProducerEpoch: -1,
      v3AndBelowTopics: [],
    }, { version: 4 })
    const result = response.resultsByTransaction?.[0]?.topicResults[0]?.resultsByPartition[0]
    errorCode = response.errorCode !== undefined && response.errorCode !== ERROR.NONE
      ? response.errorCode
      : result?.partitionErrorCode ?? ERROR.COORDINATOR_NOT_AVAILABLE
  } catch (error) {
    broker.logger.warn(`transaction verification of '${transactionalId}' with broker ` +
      `${coordinator} failed: ${(error as Error).message}`)
    errorCode = ERROR.COORDINATOR_NOT_AVAILABLE
  }
  if (errorCode === ERROR.NONE && term !== undefined) {
    ledger.rememberVerified(term, producerId, producerEpoch, markers)
  }
  return { errorCode: leaderError(errorCode), guard }
}
