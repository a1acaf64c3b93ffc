/**
 * Produce: validates each partition's batch and appends it through the replica manager, the
 * same path HTTP produce takes.
 *
 * acks: 0 means no response at all (docs/protocol.md, acks=0); a failure then closes the
 * connection, as Kafka does, since the client cannot otherwise learn of it. 1 answers once the
 * batch is durable on this leader (fsync before ack); -1 (all) once the high watermark passed
 * it, i.e. every ISR member has it durably, with NOT_ENOUGH_REPLICAS when the ISR is below
 * min.insync.replicas before the append and NOT_ENOUGH_REPLICAS_AFTER_APPEND when it shrank
 * below it after (on one node the ISR is this node, so -1 is 1). `timeout_ms` bounds the wait:
 * past it the partition answers REQUEST_TIMED_OUT, and the batch may still have been written
 * (an indefinite failure, which idempotent producers resolve by retrying).
 * Internal topics answer INVALID_TOPIC_EXCEPTION (checked in ReplicaManager.appendRecords, the
 * path HTTP produce shares).
 *
 * v8+: a batch refused for one record names it in record_errors (KIP-467), as Kafka's
 * LogValidator does for a bad offset delta or timestamp. v13+: topics are addressed by id
 * (KIP-516); an id no live topic has is UNKNOWN_TOPIC_ID.
 */
import { Produce, type ProduceRequest, type ProduceResponse } from '../../protocol/apis/produce.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import { validateTopicName } from '../../protocol/topic-name.js'
import {
  ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES, PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET,
  isTransactionalBatch, readInt64,
} from '../../records/batch-header.js'
import type { Broker, HandlerEntry } from '../broker.js'
import { PartitionError } from '../replica-manager.js'
import { NO_RESPONSE } from '../request-context.js'

type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number]

export const produceHandler: HandlerEntry<ProduceRequest, ProduceResponse> = {
  api: Produce,
  minVersion: 3,
  maxVersion: 13,
  async handle (broker, request, context) {
    const acks = request.acks
    const responses: ProduceResponse['responses'] = []
    const pending: Promise<void>[] = []
    const validAcks = acks === 0 || acks === 1 || acks === -1
    for (const topicData of request.topicData) {
      const partitionResponses: PartitionResponse[] = []
      responses.push({ name: topicData.name, topicId: topicData.topicId, partitionResponses })
      const name = topicNameOf(broker, topicData, context.version)
      const invalidName = name === undefined ? undefined : validateTopicName(name)
      for (const partitionData of topicData.partitionData) {
        const response = emptyResponse(partitionData.index)
        partitionResponses.push(response)
        if (!validAcks) {
          fail(response, 'INVALID_REQUIRED_ACKS', `acks must be -1, 0 or 1, got ${acks}`)
          continue
        }
        if (name === undefined) {
          fail(response, 'UNKNOWN_TOPIC_ID', 'no topic has this topic id')
          continue
        }
        if (invalidName !== undefined) {
          fail(response, 'INVALID_TOPIC_EXCEPTION', invalidName)
          continue
        }
        if ((request.transactionalId === null || request.transactionalId === undefined) &&
          isTransactionalPayload(partitionData.records)) {
          // Kafka's KafkaApis.handleProduceRequest: transactional records need a transactional
          // id; without one no coordinator knows the transaction, and it would hang the LSO.
          fail(response, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
            'a transactional record batch needs the request\'s transactional id')
          continue
        }
        if (request.transactionalId !== null && request.transactionalId !== undefined) {
          const refused = verifyTransactional(broker, request.transactionalId, name,
            partitionData.index, partitionData.records)
          if (refused !== undefined) {
            fail(response, refused.errorName, refused.message)
            continue
          }
        }
        const transactionalId = request.transactionalId
        // Checked again as the offsets are assigned: the transaction may end meanwhile.
        const verifyTransaction = transactionalId === null || transactionalId === undefined
          ? undefined
          : () => {
            const refused = verifyTransactional(broker, transactionalId, name,
              partitionData.index, partitionData.records)
            return refused === undefined ? undefined
              : { kind: refused.errorName, message: refused.message }
          }
        pending.push(appendPartition(broker, name, partitionData.index,
          partitionData.records, { acks, timeoutMs: request.timeoutMs }, response,
          verifyTransaction))
      }
    }
    await Promise.all(pending)
    if (acks === 0) {
      const failed = responses.flatMap(topic => topic.partitionResponses)
        .find(partition => partition.errorCode !== ERROR.NONE)
      if (failed !== undefined) {
        throw new Error(`acks=0 produce failed: ${failed.errorMessage ?? failed.errorCode}`)
      }
      return NO_RESPONSE
    }
    return { responses, throttleTimeMs: 0 }
  },
}

/** The topic a request names: by name up to v12, by id from v13 (undefined if unknown). */
function topicNameOf (broker: Broker, topicData: ProduceRequest['topicData'][number],
  version: number): string | undefined {
  if (version < 13) return topicData.name
  return broker.image.topicById((topicData.topicId ?? NO_TOPIC_ID).toString('base64url'))?.name
}

const NO_TOPIC_ID = Buffer.alloc(16)

function isTransactionalPayload (records: Buffer | null): boolean {
  return records !== null && records.length >= BATCH_HEADER_BYTES &&
    isTransactionalBatch(records.readInt16BE(ATTRIBUTES_OFFSET))
}

/**
 * KIP-890 part 1 (Kafka 3.6+ transaction verification): a transactional produce lands only if
 * the coordinator has this partition in the producer's ongoing transaction, in its current
 * epoch, so a late or stray produce cannot start a transaction nobody will end (a hanging
 * transaction). On one broker the coordinator is asked in-process; undefined when allowed.
 */
function verifyTransactional (broker: Broker, transactionalId: string, topic: string,
  partition: number, records: Buffer | null): { errorName: string, message: string } |
  undefined {
  if (records === null || records.length < BATCH_HEADER_BYTES) return undefined // INVALID_RECORD
  if (!isTransactionalBatch(records.readInt16BE(ATTRIBUTES_OFFSET))) {
    return { errorName: 'INVALID_TXN_STATE', message: `a produce with transactional id ` +
      `'${transactionalId}' must carry a transactional batch` }
  }
  const producerId = readInt64(records, PRODUCER_ID_OFFSET)
  const producerEpoch = records.readInt16BE(PRODUCER_EPOCH_OFFSET)
  const errorCode = broker.transactions?.verification(transactionalId, producerId,
    producerEpoch, { topic, partition }) ?? ERROR.COORDINATOR_NOT_AVAILABLE
  if (errorCode === ERROR.NONE) return undefined
  if (errorCode === ERROR.INVALID_PRODUCER_EPOCH) {
    return { errorName: 'INVALID_PRODUCER_EPOCH', message: `producer ${producerId} epoch ` +
      `${producerEpoch} of '${transactionalId}' is fenced by a newer instance` }
  }
  // Kafka answers every other verification failure with INVALID_TXN_STATE.
  return { errorName: 'INVALID_TXN_STATE', message: `${topic}-${partition} is not in an ` +
    `ongoing transaction of '${transactionalId}' (producer ${producerId}, epoch ` +
    `${producerEpoch}); AddPartitionsToTxn first` }
}

function emptyResponse (index: number): PartitionResponse {
  return {
    index,
    errorCode: ERROR.NONE,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage: null,
  }
}

function fail (response: PartitionResponse, errorName: string, message: string): void {
  response.errorCode = errorCodeOf(errorName)
  response.errorMessage = message
}

async function appendPartition (broker: Broker, topic: string, partition: number,
  records: Buffer | null, { acks, timeoutMs }: { acks: number, timeoutMs: number },
  response: PartitionResponse,
  verifyTransaction?: () => { kind: string, message: string } | undefined): Promise<void> {
  if (records === null || records.length === 0) {
    fail(response, 'INVALID_RECORD', 'produce request carries no record batch')
    return
  }
  try {
    const result = await withTimeout(broker,
      broker.replicaManager.appendRecords(topic, partition, records,
        { verifyTransaction, acks, timeoutMs }),
      timeoutMs)
    if (result === undefined) {
      fail(response, 'REQUEST_TIMED_OUT',
        `batch not durable within timeout_ms ${timeoutMs}; it may still be written`)
      return
    }
    response.baseOffset = result.baseOffset
    response.logAppendTimeMs = result.logAppendTimeMs
    response.logStartOffset = result.logStartOffset
  } catch (error) {
    if (!(error instanceof PartitionError)) throw error
    fail(response, error.errorName, error.message)
    if (error.recordIndex !== undefined) {
      response.recordErrors = [{ batchIndex: error.recordIndex,
        batchIndexErrorMessage: error.message }]
    }
  }
}

/** Resolves with the result, or undefined once `timeoutMs` passed (the append goes on). */
function withTimeout<T> (broker: Broker, promise: Promise<T>,
  timeoutMs: number): Promise<T | undefined> {
  if (timeoutMs <= 0) return promise
  return new Promise((resolve, reject) => {
    const timer = broker.clock.setTimer(timeoutMs, () => resolve(undefined))
    promise.then(value => {
      timer.cancel()
      resolve(value)
    }, (error: unknown) => {
      timer.cancel()
      reject(error)
    })
  })
}
