/**
 * InitProducerId: a fresh producer id (epoch 0) for an idempotent producer. Ids come from
 * blocks the controller reserved durably, so none is ever handed out twice, also after a
 * restart. With a transactional id the transaction coordinator answers: it reuses the id's
 * producer id with a bumped epoch (fencing the previous instance) and aborts what that
 * instance left open (src/txn/txn-coordinator.ts). v3+ carry the producer's current id and
 * epoch (KIP-360); for a producer without a transactional id Kafka ignores them and hands out
 * a new id, and so does this broker; with one, the coordinator bumps the epoch it holds (the
 * id/epoch check of KIP-360 is not made yet).
 */
import {
  InitProducerId, type InitProducerIdRequest, type InitProducerIdResponse,
} from '../../protocol/apis/init-producer-id.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import { fencedForVersion } from './transactions.js'

export const initProducerIdHandler:
HandlerEntry<InitProducerIdRequest, InitProducerIdResponse> = {
  api: InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle (broker, request, context) {
    if (request.transactionalId !== null && request.transactionalId !== '') {
      const failed = (errorCode: number): InitProducerIdResponse =>
        ({ throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 })
      const txn = await broker.transactionCoordinator()
      if (txn === undefined) return failed(ERROR.COORDINATOR_NOT_AVAILABLE)
      const error = txn.coordinatorError(request.transactionalId)
      if (error !== ERROR.NONE) return failed(error)
      const response = await txn.initProducerId(request.transactionalId,
        request.transactionTimeoutMs)
      // PRODUCER_FENCED from InitProducerId v4 (KIP-588).
      if (response.errorCode !== ERROR.NONE) {
        return failed(fencedForVersion(response.errorCode, context.version, 4))
      }
      return { throttleTimeMs: 0, errorCode: ERROR.NONE, producerId: response.producerId,
        producerEpoch: response.producerEpoch }
    }
    const producerId = await broker.producerIds.nextProducerId()
    return { throttleTimeMs: 0, errorCode: ERROR.NONE, producerId, producerEpoch: 0 }
  },
}
