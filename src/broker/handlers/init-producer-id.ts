/**
 * InitProducerId: a fresh producer id (epoch 0) for an idempotent producer. Ids come from
 * blocks the controller reserved durably, so none is ever handed out twice, also after a
 * restart. A transactional id needs a transaction coordinator, which this broker does not have
 * yet: it answers COORDINATOR_NOT_AVAILABLE, as Kafka does while no coordinator is loaded.
 * v3+ carry the producer's current id and epoch (KIP-360); for a producer without a
 * transactional id Kafka ignores them and hands out a new id, and so does this broker.
 */
import {
  InitProducerId, type InitProducerIdRequest, type InitProducerIdResponse,
} from '../../protocol/apis/init-producer-id.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const initProducerIdHandler:
HandlerEntry<InitProducerIdRequest, InitProducerIdResponse> = {
  api: InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle (broker, request) {
    if (request.transactionalId !== null && request.transactionalId !== '') {
      return {
        throttleTimeMs: 0, errorCode: ERROR.COORDINATOR_NOT_AVAILABLE, producerId: -1,
        producerEpoch: -1,
      }
    }
    const producerId = await broker.producerIds.nextProducerId()
    return { throttleTimeMs: 0, errorCode: ERROR.NONE, producerId, producerEpoch: 0 }
  },
}
