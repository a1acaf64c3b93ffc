/**
 * Tributary's own HTTP API under /api/v1: topics, produce, consume (offset-based and
 * long-poll), and a server-sent-event stream per partition.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from '../../broker/broker.js'
import { ControllerError } from '../../controller/controller.js'
import { toBytes } from '../codec.js'
import { fromKafkaError, HttpError, PARTITION_NOT_FOUND, TOPIC_NOT_FOUND } from '../errors.js'
import { consumeRecords, produceMessages, type OutgoingMessage } from '../records-service.js'
import { sendBody } from '../respond.js'

const jsonValue = {}
const messageSchema = {
  type: 'object',
  required: ['value'],
  additionalProperties: false,
  properties: {
    key: jsonValue,
    value: jsonValue,
    timestamp: { type: 'integer', minimum: 0 },
    partition: { type: 'integer', minimum: 0 },
    headers: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
  },
}

/** Server-sent events: an idle stream sends a comment this often; records per read. */
const SSE_KEEPALIVE_MS = 15_000
const SSE_LIMIT_PER_READ = 500

export function registerApiV1 (app: FastifyInstance, broker: Broker): void {
  app.post('/api/v1/topics', {
    schema: {
      description: 'Create a topic',
      body: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          partitions: { type: 'integer', minimum: 1 },
          replication_factor: { type: 'integer', minimum: 1 },
          retention_ms: { type: 'integer', minimum: -1 },
          configs: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
        },
      },
    },
  }, async (request, reply) => {
    const body = request.body as { name: string, partitions?: number,
      replication_factor?: number, retention_ms?: number, configs?: Record<string, unknown> }
    const configs: Record<string, string> = {}
    for (const [name, value] of Object.entries(body.configs ?? {})) configs[name] = String(value)
    if (body.retention_ms !== undefined) configs['retention.ms'] = String(body.retention_ms)
    try {
      // The broker's one creation path: validation, internal names refused, logs opened.
      const topic = await broker.topicCreator.create({
        name: body.name,
        partitions: body.partitions,
        replicationFactor: body.replication_factor,
        configs,
      }, 'client')
      return sendBody(request, reply.code(201), {
        name: topic.name,
        topic_id: topic.topicId,
        partitions: topic.partitions.length,
        replication_factor: topic.partitions[0]?.replicas.length ?? 0,
        configs: Object.fromEntries(topic.configs),
      })
    } catch (error) {
      if (error instanceof ControllerError) {
        if (error.errorName === 'INVALID_CONFIG') {
          throw new HttpError(422, 6, `configs: ${error.message}`,
            [{ field: 'configs', message: error.message }])
        }
        if (error.errorName === 'INVALID_REQUEST') {
          // An internal or reserved name: the request is wrong, not the server.
          throw new HttpError(400, 4, `name: ${error.message}`,
            [{ field: 'name', message: error.message }])
        }
        const field = error.errorName === 'INVALID_REPLICATION_FACTOR'
          ? 'replication_factor'
          : error.errorName === 'INVALID_PARTITIONS' ? 'partitions' : 'name'
        throw fromKafkaError(error.errorName, error.message, field)
      }
      throw error
    }
  })

  app.get('/api/v1/topics', async (request, reply) => sendBody(request, reply,
    [...broker.image.topics()].map(topic => ({ name: topic.name,
      partitions: topic.partitions.length }))))

  app.post('/api/v1/produce', {
    schema: {
      description: 'Produce messages; the key picks the partition (murmur2) when none is given',
      querystring: { type: 'object', properties: { acks: { type: 'integer', enum: [-1, 0, 1] } } },
      body: {
        type: 'object',
        required: ['topic', 'messages'],
        additionalProperties: false,
        properties: {
          topic: { type: 'string', minLength: 1 },
          partition: { type: 'integer', minimum: 0 },
          acks: { type: 'integer', enum: [-1, 0, 1] },
          messages: { type: 'array', minItems: 1, maxItems: 10_000, items: messageSchema },
        },
      },
    },
  }, async (request, reply) => {
    const body = request.body as { topic: string, partition?: number, acks?: number,
      messages: { key?: unknown, value: unknown, timestamp?: number, partition?: number,
        headers?: Record<string, string | null> }[] }
    const acks = body.acks ?? (request.query as { acks?: number }).acks ?? -1
    const messages: OutgoingMessage[] = body.messages.map((message, index) => {
      const partition = message.partition ?? body.partition
      return {
        key: toBytes(message.key, `messages[${index}].key`),
        value: toBytes(message.value, `messages[${index}].value`),
        headers: Object.entries(message.headers ?? {}).map(([key, value]) => ({
          key, value: value === null ? null : Buffer.from(value),
        })),
        ...(message.timestamp === undefined ? {} : { timestamp: message.timestamp }),
        ...(partition === undefined ? {} : { partition }),
      }
    })
    const results = await produceMessages(broker, body.topic, messages, acks)
    return sendBody(request, reply, { topic: body.topic, results })
  })

  app.get('/api/v1/consume', {
    schema: {
      description: 'Read records from an offset (max_wait_ms makes it a long poll)',
      querystring: {
        type: 'object',
        required: ['topic', 'partition', 'offset'],
        properties: {
          topic: { type: 'string', minLength: 1 },
          partition: { type: 'integer', minimum: 0 },
          offset: { type: 'integer', minimum: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 10_000 },
          max_wait_ms: { type: 'integer', minimum: 0, maximum: 30_000 },
        },
      },
    },
  }, async (request, reply) => {
    const query = request.query as { topic: string, partition: number, offset: number,
      limit?: number, max_wait_ms?: number }
    const abort = new AbortController()
    request.raw.on('close', () => abort.abort())
    const result = await consumeRecords(broker, query.topic, query.partition, query.offset,
      query.limit ?? 100, query.max_wait_ms ?? 0, abort.signal)
    return sendBody(request, reply, {
      topic: query.topic, partition: query.partition, records: result.records,
      next_offset: result.nextOffset, high_watermark: result.highWatermark,
    })
  })

  app.get('/api/v1/topics/:topic/partitions/:partition/stream', {
    schema: {
      description: 'Server-sent events, one per record, id "<partition>:<offset>"',
      params: { type: 'object', properties: { topic: { type: 'string' },
        partition: { type: 'integer', minimum: 0 } } },
      querystring: { type: 'object', properties: { offset: { type: 'integer', minimum: 0 } } },
    },
  }, (request, reply) => stream(broker, request, reply))
}

async function stream (broker: Broker, request: FastifyRequest,
  reply: FastifyReply): Promise<void> {
  const { topic, partition } = request.params as { topic: string, partition: number }
  const topicInfo = broker.image.topic(topic)
  if (topicInfo === undefined) throw TOPIC_NOT_FOUND(topic)
  if (partition >= topicInfo.partitions.length) throw PARTITION_NOT_FOUND(topic, partition)
  let offset = (request.query as { offset?: number }).offset ?? 0
  const lastEventId = request.headers['last-event-id']
  if (typeof lastEventId === 'string') {
    const match = /^(\d+):(\d+)$/.exec(lastEventId)
    if (match === null || Number(match[1]) !== partition) {
      throw new HttpError(400, 7, 'Last-Event-ID must be "<partition>:<offset>" of this stream')
    }
    offset = Number(match[2]) + 1
  }
  const abort = new AbortController()
  const raw = reply.raw
  reply.hijack()
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache',
    connection: 'keep-alive' })
  request.raw.on('close', () => abort.abort())
  try {
    while (!abort.signal.aborted) {
      const result = await consumeRecords(broker, topic, partition, offset, SSE_LIMIT_PER_READ,
        SSE_KEEPALIVE_MS, abort.signal)
      if (result.records.length === 0) {
        raw.write(': keep-alive\n\n')
        continue
      }
      for (const record of result.records) {
        const ok = raw.write(`id: ${partition}:${record.offset}\nevent: record\ndata: ` +
          `${JSON.stringify(record)}\n\n`)
        // Back-pressure: a slow reader makes us wait here instead of buffering more records.
        if (!ok) await drained(raw, abort.signal)
      }
      offset = result.nextOffset
    }
  } catch (error) {
    if (!abort.signal.aborted) {
      raw.write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`)
    }
  } finally {
    raw.end()
  }
}

function drained (stream: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => {
      stream.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    stream.on('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}
