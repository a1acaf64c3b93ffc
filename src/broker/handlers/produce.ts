/**
 * Produce: validates each partition's batch and appends it through the replica manager, the
 * same path HTTP produce takes.
 *
 * acks: 0 means no response at all (docs/protocol.md, acks=0); a failure then closes the
 * connection, as Kafka does, since the client cannot otherwise learn of it. 1 and -1 answer
 * once the batch is durable (fsync before ack; on one node the ISR is this node). `timeout_ms`
 * bounds the wait: past it the partition answers REQUEST_TIMED_OUT, and the batch may still
 * have been written (an indefinite failure, which idempotent producers resolve by retrying).
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
        if (request.transactionalId !== null && request.transactionalId !== undefined) {
          fail(response, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
            'transactions are not supported by this broker yet')
          continue
        }
        pending.push(appendPartition(broker, name, partitionData.index,
          partitionData.records, request.timeoutMs, response))
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
  records: Buffer | null, timeoutMs: number, response: PartitionResponse): Promise<void> {
  if (records === null || records.length === 0) {
    fail(response, 'INVALID_RECORD', 'produce request carries no record batch')
    return
  }
  try {
    const result = await withTimeout(broker,
      broker.replicaManager.appendRecords(topic, partition, records), timeoutMs)
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
