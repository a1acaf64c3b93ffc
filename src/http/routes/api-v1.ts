/**
 * Tributary's own HTTP API under /api/v1: topics, produce, consume (offset-based and
 * long-poll), and a server-sent-event stream per partition. Keys and values round-trip JSON
 * (codec.ts); `timestamp` takes milliseconds, seconds or ISO-8601 (timestamp.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from '../../broker/broker.js'
import { ControllerError } from '../../controller/controller.js'
import { headersFor, toBytes, withJsonParts } from '../codec.js'
import { fromKafkaError, HttpError, PARTITION_NOT_FOUND, TOPIC_NOT_FOUND } from '../errors.js'
import type { LeaderRouter } from '../leader-router.js'
import type { OpenStreams } from '../open-streams.js'
import {
  consumeRecords, HTTP_DEFAULT_ISOLATION, produceMessages, type IsolationLevel,
  type OutgoingMessage,
} from '../records-service.js'
import { sendBody } from '../respond.js'
import { ERROR_RESPONSES, NATIVE_MEDIA, okResponse, ref, TAG } from '../schemas.js'
import { timestampMs } from '../timestamp.js'

/** Server-sent events: an idle stream sends a comment this often; records per read. */
const SSE_KEEPALIVE_MS = 15_000
const SSE_LIMIT_PER_READ = 500

const tags = [TAG.native]
const media = NATIVE_MEDIA

interface ProduceBody {
  topic: string
  partition?: number
  acks?: number
  messages: { key?: unknown, value: unknown, timestamp?: number | string, partition?: number,
    headers?: Record<string, string | null> }[]
}

export function registerApiV1 (app: FastifyInstance, router: LeaderRouter,
  streams: OpenStreams): void {
  registerTopics(app, router.broker)
  registerProduce(app, router)
  registerConsume(app, router, streams)
}

function registerProduce (app: FastifyInstance, router: LeaderRouter): void {
  app.post('/api/v1/produce', {
    schema: {
      tags, ...media,
      summary: 'Produce messages',
      description: 'The key picks the partition (Kafka\'s murmur2) when none is given. A topic ' +
        'that does not exist is created with the broker defaults when auto.create.topics.enable ' +
        'is true, as a Kafka producer\'s Metadata request would. The response gives each ' +
        'message\'s partition, offset and stored timestamp (Unix ms).',
      querystring: { type: 'object', properties: { acks: { type: 'integer', enum: [-1, 0, 1] } } },
      body: ref('ProduceRequest'),
      response: { 200: okResponse('Where each message was stored', 'ProduceResponse'),
        ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const body = request.body as ProduceBody
    const acks = body.acks ?? (request.query as { acks?: number }).acks ?? -1
    const messages: OutgoingMessage[] = body.messages.map((message, index) => {
      const field = `body.messages[${index}]`
      const partition = message.partition ?? body.partition
      return {
        key: toBytes(message.key, `${field}.key`),
        value: toBytes(message.value, `${field}.value`),
        headers: headersFor(message.key, message.value, message.headers ?? {}),
        ...(message.timestamp === undefined
          ? {}
          : { timestamp: timestampMs(message.timestamp, `${field}.timestamp`) }),
        ...(partition === undefined ? {} : { partition }),
      }
    })
    const results = await produceMessages(router, body.topic, messages, acks)
    return sendBody(request, reply, { topic: body.topic, results })
  })
}

function registerConsume (app: FastifyInstance, router: LeaderRouter,
  streams: OpenStreams): void {

  app.get('/api/v1/consume', {
    schema: {
      tags, produces: media.produces,
      summary: 'Read records from an offset',
      description: 'max_wait_ms makes it a long poll: the answer comes when a record arrives ' +
        'or the time is up. JSON values come back as JSON (see the Data schema).',
      querystring: {
        type: 'object',
        required: ['topic', 'partition', 'offset'],
        properties: {
          topic: ref('TopicName'),
          partition: { type: 'integer', minimum: 0 },
          offset: { type: 'integer', minimum: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
          max_wait_ms: { type: 'integer', minimum: 0, maximum: 30_000, default: 0 },
          isolation_level: ref('IsolationLevel'),
        },
      },
      response: { 200: okResponse('Records from the offset on', 'ConsumeResponse'),
        ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const query = request.query as { topic: string, partition: number, offset: number,
      limit?: number, max_wait_ms?: number, isolation_level?: IsolationLevel }
    const result = await consumeRecords(router, query.topic, query.partition, query.offset,
      query.limit ?? 100, query.max_wait_ms ?? 0, streams.signalFor(reply), undefined,
      query.isolation_level ?? HTTP_DEFAULT_ISOLATION)
    return sendBody(request, reply, {
      topic: query.topic, partition: query.partition, records: result.records.map(withJsonParts),
      next_offset: result.nextOffset, high_watermark: result.highWatermark,
    })
  })

  app.get('/api/v1/topics/:topic/partitions/:partition/stream', {
    schema: {
      tags,
      summary: 'Stream records as server-sent events',
      description: 'One `record` event per record (data: a Record), id "<partition>:<offset>"; ' +
        'a reconnecting client sends Last-Event-ID to resume after it. At most ' +
        'http.sse.streams.max streams are open at once (429 beyond); they end when the ' +
        'broker shuts down.',
      params: { type: 'object', required: ['topic', 'partition'], properties: {
        topic: ref('TopicName'), partition: { type: 'integer', minimum: 0 } } },
      querystring: { type: 'object', properties: { offset: { type: 'integer', minimum: 0 },
        isolation_level: ref('IsolationLevel') } },
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string',
        maxLength: 64 } } },
      response: { 200: { description: 'An event stream', content: { 'text/event-stream': {
        schema: { type: 'string', examples: ['id: 0:0\nevent: record\ndata: {"offset":0,' +
          '"key":"user:123","value":"login","timestamp":1640995200000,"headers":{}}\n\n'] } } } },
      ...ERROR_RESPONSES },
    },
  }, (request, reply) => stream(router, streams, request, reply))
}

function registerTopics (app: FastifyInstance, broker: Broker): void {
  app.post('/api/v1/topics', {
    schema: {
      tags, ...media,
      summary: 'Create a topic',
      body: ref('CreateTopicRequest'),
      response: { 201: okResponse('The topic as created', 'Topic'), ...ERROR_RESPONSES },
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
          throw new HttpError(422, 6, `body.configs: ${error.message}`,
            [{ field: 'body.configs', message: error.message }])
        }
        if (error.errorName === 'INVALID_REQUEST') {
          // An internal or reserved name: the request is wrong, not the server.
          throw new HttpError(400, 4, `body.name: ${error.message}`,
            [{ field: 'body.name', message: error.message }])
        }
        const field = error.errorName === 'INVALID_REPLICATION_FACTOR'
          ? 'body.replication_factor'
          : error.errorName === 'INVALID_PARTITIONS' ? 'body.partitions' : 'body.name'
        throw fromKafkaError(error.errorName, error.message, field)
      }
      throw error
    }
  })

  app.get('/api/v1/topics', {
    schema: {
      tags, produces: media.produces,
      summary: 'List topics',
      response: { 200: { description: 'Every topic with its partition count', type: 'array',
        items: ref('TopicSummary') }, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => sendBody(request, reply,
    [...broker.image.topics()].map(topic => ({ name: topic.name,
      partitions: topic.partitions.length }))))
}

/** The offset a stream starts from: `?offset=`, or the one after Last-Event-ID. */
function streamStart (request: FastifyRequest, partition: number): number {
  const lastEventId = request.headers['last-event-id']
  if (typeof lastEventId !== 'string') return (request.query as { offset?: number }).offset ?? 0
  const match = /^(\d+):(\d+)$/.exec(lastEventId)
  if (match === null || Number(match[1]) !== partition) {
    throw new HttpError(400, 7, 'headers.last-event-id must be "<partition>:<offset>" of this ' +
      'stream')
  }
  return Number(match[2]) + 1
}

async function stream (router: LeaderRouter, streams: OpenStreams, request: FastifyRequest,
  reply: FastifyReply): Promise<void> {
  const { topic, partition } = request.params as { topic: string, partition: number }
  const topicInfo = router.broker.image.topic(topic)
  if (topicInfo === undefined) throw TOPIC_NOT_FOUND(topic)
  if (partition >= topicInfo.partitions.length) throw PARTITION_NOT_FOUND(topic, partition)
  let offset = streamStart(request, partition)
  const isolation = (request.query as { isolation_level?: IsolationLevel }).isolation_level ??
    HTTP_DEFAULT_ISOLATION
  const open = streams.openStream(reply)
  const raw = reply.raw
  reply.hijack()
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache',
    connection: 'keep-alive' })
  // Send the head now: a client sees the stream open before the first record or keep-alive.
  raw.flushHeaders()
  try {
    while (!open.signal.aborted) {
      const result = await consumeRecords(router, topic, partition, offset, SSE_LIMIT_PER_READ,
        SSE_KEEPALIVE_MS, open.signal, undefined, isolation)
      // Moves past aborted data and markers even when no record came.
      offset = result.nextOffset
      if (result.records.length === 0) {
        if (!open.signal.aborted) raw.write(': keep-alive\n\n')
        continue
      }
      for (const record of result.records) {
        const ok = raw.write(`id: ${partition}:${record.offset}\nevent: record\ndata: ` +
          `${JSON.stringify(withJsonParts(record))}\n\n`)
        // Back-pressure: a slow reader makes us wait here instead of buffering more records.
        if (!ok) await drained(raw, open.signal)
      }
    }
  } catch (error) {
    if (!open.signal.aborted) {
      raw.write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`)
    }
  } finally {
    streams.release(open)
    // The stream is over (client gone, error, or shutdown): end it and drop the connection
    // rather than leave a keep-alive socket for the closing server to wait on.
    raw.end(() => raw.destroy())
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
