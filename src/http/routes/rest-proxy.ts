/**
 * Confluent REST Proxy v2 compatibility for topics and produce, so existing REST-proxy clients
 * work unchanged: `GET /topics`, `GET /topics/{topic}`, `POST /topics/{topic}` and
 * `POST /topics/{topic}/partitions/{partition}` with `application/vnd.kafka.json.v2+json`
 * (keys and values are JSON) or `application/vnd.kafka.binary.v2+json` (base64) bodies, and
 * REST Proxy's response shapes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { LeaderRouter } from '../leader-router.js'
import { decodeBase64 } from '../codec.js'
import { HttpError, TOPIC_NOT_FOUND } from '../errors.js'
import { produceMessages, type OutgoingMessage } from '../records-service.js'
import { ERROR_RESPONSES, okResponse, ref, TAG } from '../schemas.js'

export const V2_JSON = 'application/vnd.kafka.json.v2+json'
export const V2_BINARY = 'application/vnd.kafka.binary.v2+json'
/** REST Proxy v2's media type for requests and responses that carry no records. */
export const V2 = 'application/vnd.kafka.v2+json'

const tags = [TAG.restProxy]
const topicParams = { type: 'object', required: ['topic'], properties: {
  topic: ref('TopicName') } }

function encodeField (request: FastifyRequest, value: unknown, field: string): Buffer | null {
  if (value === null || value === undefined) return null
  const type = request.headers['content-type'] ?? ''
  if (type.startsWith(V2_BINARY)) {
    if (typeof value !== 'string') {
      throw new HttpError(422, 6, `${field} must be a base64 string in the binary format`,
        [{ field, message: 'must be a base64 string' }])
    }
    return decodeBase64(value, field)
  }
  if (type.startsWith(V2_JSON)) return Buffer.from(JSON.stringify(value))
  throw new HttpError(415, 1, `Content-Type must be ${V2_JSON} or ${V2_BINARY}`)
}

export function registerRestProxyV2 (app: FastifyInstance, router: LeaderRouter): void {
  const broker = router.broker
  app.get('/topics', {
    schema: { tags, produces: [V2], summary: 'List topic names (REST Proxy v2)',
      response: { 200: { description: 'Topic names', type: 'array', items: { type: 'string' },
        examples: [['user-events']] }, ...ERROR_RESPONSES } },
  }, async (_request, reply) =>
    reply.type(V2).send([...broker.image.topics()].map(topic => topic.name)))

  app.get('/topics/:topic', {
    schema: { tags, produces: [V2], summary: 'Describe a topic (REST Proxy v2)',
      params: topicParams,
      response: { 200: okResponse('The topic, its configs and partitions', 'V2Topic'),
        ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { topic } = request.params as { topic: string }
    const info = broker.image.topic(topic)
    if (info === undefined) throw TOPIC_NOT_FOUND(topic)
    return reply.type(V2).send({
      name: info.name,
      configs: Object.fromEntries(broker.configs.describeTopic(info.name, info.configs)
        .map(entry => [entry.name, entry.value])),
      partitions: info.partitions.map(partition => ({
        partition: partition.partitionId,
        leader: partition.leader,
        replicas: partition.replicas.map(replica => ({
          broker: replica, leader: replica === partition.leader,
          in_sync: partition.isr.includes(replica),
        })),
      })),
    })
  })

  const produce = async (request: FastifyRequest, topic: string,
    fixedPartition: number | undefined): Promise<unknown> => {
    const body = request.body as { records: { key?: unknown, value: unknown,
      partition?: number }[] }
    const messages: OutgoingMessage[] = body.records.map((record, index) => {
      const partition = fixedPartition ?? record.partition
      return {
        key: encodeField(request, record.key, `body.records[${index}].key`),
        value: encodeField(request, record.value, `body.records[${index}].value`),
        headers: [],
        ...(partition === undefined ? {} : { partition }),
      }
    })
    const results = await produceMessages(router, topic, messages, -1,
      { topic: 'params.topic', messages: 'body.records' })
    return {
      key_schema_id: null,
      value_schema_id: null,
      offsets: results.map(result => ({ partition: result.partition, offset: result.offset,
        error_code: null, error: null })),
    }
  }

  const produceDescription = `Body in ${V2_JSON} (keys and values are JSON, stored as JSON ` +
    `text) or ${V2_BINARY} (base64 strings, stored as those bytes). A missing topic is created ` +
    'when auto.create.topics.enable is true.'
  app.post('/topics/:topic', {
    schema: { tags, consumes: [V2_JSON, V2_BINARY], produces: [V2],
      summary: 'Produce to a topic (REST Proxy v2)',
      description: produceDescription, params: topicParams, body: ref('V2ProduceRequest'),
      response: { 200: okResponse('Where each record was stored', 'V2ProduceResponse'),
        ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { topic } = request.params as { topic: string }
    return reply.type(V2).send(await produce(request, topic, undefined))
  })

  app.post('/topics/:topic/partitions/:partition', {
    schema: { tags, consumes: [V2_JSON, V2_BINARY], produces: [V2],
      summary: 'Produce to one partition (REST Proxy v2)',
      description: produceDescription,
      params: { type: 'object', required: ['topic', 'partition'], properties: {
        topic: ref('TopicName'), partition: { type: 'integer', minimum: 0 } } },
      body: ref('V2ProduceRequest'),
      response: { 200: okResponse('Where each record was stored', 'V2ProduceResponse'),
        ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { topic, partition } = request.params as { topic: string, partition: number }
    return reply.type(V2).send(await produce(request, topic, partition))
  })
}
