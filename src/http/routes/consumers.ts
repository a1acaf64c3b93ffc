/**
 * Consumer groups over HTTP: Tributary's /api/v1/consumer-groups and Confluent REST Proxy v2's
 * consumer API (`/consumers/{group}`...). Every instance is a real group member
 * (consumer-instances.ts, which also states the auto-commit rule). As Confluent's proxy does,
 * an offset committed through v2 is stored as the offset sent + 1 (the next record to read),
 * and a v2 instance joins its group when it subscribes, so its first poll already returns data.
 * `base_uri` is absolute in both APIs, built from the request's Host (respond.ts).
 *
 * Joining takes `group.initial.rebalance.delay.ms` (Kafka's default 3 s) when the group is new
 * or empty: the coordinator waits that long for more members before the first assignment, so
 * the create call (native) or the subscription (v2) answers after it.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR } from '../../protocol/errors.js'
import { fromBytes, withJsonParts } from '../codec.js'
import type { ConsumerInstances } from '../consumer-instances.js'
import { fromKafkaError, HttpError } from '../errors.js'
import type { OpenStreams } from '../open-streams.js'
import { absoluteUrl, sendBody } from '../respond.js'
import { ERROR_RESPONSES, NATIVE_MEDIA, okResponse, ref, TAG } from '../schemas.js'
import { V2, V2_BINARY, V2_JSON } from './rest-proxy.js'
import { HTTP_DEFAULT_ISOLATION, type IsolationLevel } from '../records-service.js'


type Params = { group: string, instance: string }
const instanceParams = {
  type: 'object', required: ['group', 'instance'],
  properties: { group: ref('GroupId'), instance: ref('InstanceId') },
}
const JOIN_DELAY_NOTE = 'The member joins its group before this answers: for a new or empty ' +
  'group that takes group.initial.rebalance.delay.ms (3 s by default), while the coordinator ' +
  'waits for more members.'
const AUTO_COMMIT_NOTE = 'With auto-commit on (the default), each read first commits the ' +
  'offsets after the records the previous read returned.'

function checkCommit (errorCode: number): void {
  if (errorCode === ERROR.NONE) return
  throw errorCode === ERROR.REBALANCE_IN_PROGRESS
    ? new HttpError(409, 2, 'the group is rebalancing; poll again and retry the commit')
    : fromKafkaError('COMMIT', `offset commit failed with error ${errorCode}`, 'offsets')
}

const pathOf = (prefix: string, group: string, instance: string): string =>
  `${prefix}/${encodeURIComponent(group)}/instances/${encodeURIComponent(instance)}`

export function registerConsumers (app: FastifyInstance, instances: ConsumerInstances,
  streams: OpenStreams): void {
  registerNativeConsumers(app, instances, streams)
  registerRestProxyConsumers(app, instances, streams)
}

const tags = [TAG.consumers]
const media = NATIVE_MEDIA
const nativePath = '/api/v1/consumer-groups/:group/instances/:instance'

function registerNativeConsumers (app: FastifyInstance, instances: ConsumerInstances,
  streams: OpenStreams): void {
  const path = nativePath

  app.post('/api/v1/consumer-groups', {
    schema: { tags, ...media, summary: 'Create a consumer instance (a member of the group)',
      description: `${JOIN_DELAY_NOTE} ${AUTO_COMMIT_NOTE}`,
      body: ref('CreateConsumerRequest'),
      response: { 201: okResponse('The joined instance and its partitions', 'ConsumerInstance'),
        ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const body = request.body as { group_id: string, topics: string[],
      auto_offset_reset?: 'earliest' | 'latest', auto_commit?: boolean,
      isolation_level?: IsolationLevel }
    const instance = await instances.create(body.group_id, body.topics, {
      autoOffsetReset: body.auto_offset_reset ?? 'latest', autoCommit: body.auto_commit ?? true,
      isolation: body.isolation_level ?? HTTP_DEFAULT_ISOLATION, format: 'json' })
    return sendBody(request, reply.code(201), {
      group_id: body.group_id, instance_id: instance.instanceId, member_id: instance.memberId,
      base_uri: absoluteUrl(request, pathOf('/api/v1/consumer-groups', body.group_id,
        instance.instanceId)),
      auto_commit: instance.settings.autoCommit,
      isolation_level: instance.settings.isolation,
      assignment: instance.assignment,
    })
  })

  app.get(`${path}/records`, {
    schema: { tags, produces: media.produces,
      summary: 'Read records from the instance\'s partitions',
      description: `A long poll of up to max_wait_ms. ${AUTO_COMMIT_NOTE}`,
      params: instanceParams,
      querystring: { type: 'object', properties: {
        max_wait_ms: { type: 'integer', minimum: 0, maximum: 30_000, default: 1000 },
        limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 } } },
      response: { 200: okResponse('Records, oldest first per partition', 'GroupRecords'),
        ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    const query = request.query as { max_wait_ms?: number, limit?: number }
    const records = await instances.get(group, instance).records(query.max_wait_ms ?? 1000,
      query.limit ?? 500, streams.signalFor(reply))
    return sendBody(request, reply, { records: records.map(withJsonParts) })
  })

  app.post(`${path}/offsets`, {
    schema: { tags, ...media, summary: 'Commit offsets',
      description: 'Commits the given offsets (the next record to read), or without a body ' +
        'the positions after every record read so far.',
      params: instanceParams, body: ref('Offsets'),
      response: { 200: okResponse('The committed offsets of the instance\'s partitions',
        'CommittedOffsets'), ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    const body = (request.body ?? {}) as { offsets?: { topic: string, partition: number,
      offset: number }[] }
    const consumer = instances.get(group, instance)
    checkCommit(await consumer.commit(body.offsets))
    return sendBody(request, reply, { offsets: consumer.committed() })
  })
  registerNativeOffsetsAndDelete(app, instances)
}

function registerNativeOffsetsAndDelete (app: FastifyInstance,
  instances: ConsumerInstances): void {
  const path = nativePath

  app.get(`${path}/offsets`, {
    schema: { tags, produces: media.produces,
      summary: 'Committed offsets of the instance\'s partitions',
      params: instanceParams,
      response: { 200: okResponse('Committed offsets (-1: none)', 'CommittedOffsets'),
        ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    return sendBody(request, reply, { offsets: instances.get(group, instance).committed() })
  })

  app.delete(path, {
    schema: { tags, summary: 'Leave the group and delete the instance',
      description: 'With auto-commit on, first commits what the last read returned.',
      params: instanceParams,
      response: { 204: { description: 'Deleted', type: 'null' }, ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    await instances.delete(group, instance)
    return reply.code(204).send()
  })
}

/** A v2 record's key or value: REST Proxy's embedded formats (json: parsed; binary: base64). */
function renderV2 (value: string | { base64: string } | null, binary: boolean): unknown {
  if (value === null) return null
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.base64, 'base64')
  if (binary) return bytes.toString('base64')
  const text = fromBytes(bytes)
  if (typeof text !== 'string') return text
  try { return JSON.parse(text) } catch { return text }
}

const v2Tags = [TAG.restProxy]
// REST Proxy's own media types; plain JSON is accepted too.
const consumes = [V2, 'application/json']
const produces = [V2]
const v2Path = '/consumers/:group/instances/:instance'

function registerRestProxyConsumers (app: FastifyInstance, instances: ConsumerInstances,
  streams: OpenStreams): void {
  const tags = v2Tags
  const base = v2Path

  app.post('/consumers/:group', {
    schema: { tags, consumes, produces, summary: 'Create a consumer instance (REST Proxy v2)',
      description: 'The instance joins its group when it subscribes. An instance that is ' +
        'never used expires after consumer.instance.timeout.ms like any other.',
      params: { type: 'object', required: ['group'], properties: { group: ref('GroupId') } },
      body: ref('V2CreateConsumerRequest'),
      response: { 200: okResponse('The instance', 'V2CreateConsumerResponse'),
        ...ERROR_RESPONSES } },
    // Every field is optional, so is the body, as in REST Proxy.
    preValidation: async request => { request.body ??= {} },
  }, async (request, reply) => {
    const { group } = request.params as { group: string }
    const body = (request.body ?? {}) as { name?: string, format?: string,
      'auto.offset.reset'?: 'earliest' | 'latest', 'auto.commit.enable'?: string,
      'isolation.level'?: IsolationLevel }
    const name = body.name ?? `rest-consumer-${randomUUID()}`
    const pending = instances.reserve(group, name, {
      autoOffsetReset: body['auto.offset.reset'] ?? 'latest',
      autoCommit: body['auto.commit.enable'] !== 'false',
      // Kafka's consumer default (ConsumerConfig isolation.level): v2 takes Kafka's configs.
      isolation: body['isolation.level'] ?? 'read_uncommitted',
      format: body.format === 'binary' ? 'binary' : 'json',
    })
    return reply.type(V2).send({ instance_id: pending.instanceId,
      base_uri: absoluteUrl(request, pathOf('/consumers', group, pending.instanceId)) })
  })

  app.post(`${base}/subscription`, {
    schema: { tags, consumes, summary: 'Subscribe to topics (REST Proxy v2)',
      description: `${JOIN_DELAY_NOTE} A new subscription replaces the previous one.`,
      params: instanceParams, body: ref('V2Subscription'),
      response: { 204: { description: 'Subscribed', type: 'null' }, ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    await instances.subscribe(group, instance, (request.body as { topics: string[] }).topics)
    return reply.code(204).send()
  })
  registerRestProxyReads(app, instances, streams)
}

function registerRestProxyReads (app: FastifyInstance, instances: ConsumerInstances,
  streams: OpenStreams): void {
  const tags = v2Tags
  const base = v2Path

  app.get(`${base}/records`, {
    schema: { tags, produces: [V2_JSON, V2_BINARY], summary: 'Read records (REST Proxy v2)',
      description: 'Keys and values in the instance\'s format: json (parsed) or binary ' +
        `(base64). ${AUTO_COMMIT_NOTE}`,
      params: instanceParams,
      querystring: { type: 'object', properties: {
        timeout: { type: 'integer', minimum: 0, maximum: 30_000, default: 1000 } } },
      response: { 200: { description: 'Records', type: 'array', items: ref('V2Record') },
        ...ERROR_RESPONSES } },
  }, (request, reply) => readV2(instances, streams, request, reply))

  app.post(`${base}/offsets`, {
    schema: { tags, consumes, summary: 'Commit offsets (REST Proxy v2: stored as sent + 1)',
      params: instanceParams, body: ref('Offsets'),
      response: { 200: { description: 'Committed (no body, as in REST Proxy)', type: 'null' },
        ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    const body = (request.body ?? {}) as { offsets?: { topic: string, partition: number,
      offset: number }[] }
    const consumer = instances.get(group, instance)
    // Confluent's proxy stores the offset after the one sent: the next record to read.
    checkCommit(await consumer.commit(body.offsets?.map(o => ({ ...o, offset: o.offset + 1 }))))
    return reply.code(200).type(V2).send()
  })

  app.delete(base, {
    schema: { tags, summary: 'Delete the instance (REST Proxy v2)', params: instanceParams,
      response: { 204: { description: 'Deleted', type: 'null' }, ...ERROR_RESPONSES } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    await instances.delete(group, instance)
    return reply.code(204).send()
  })
}

async function readV2 (instances: ConsumerInstances, streams: OpenStreams,
  request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { group, instance } = request.params as Params
  const query = request.query as { timeout?: number }
  const consumer = instances.get(group, instance)
  const binary = consumer.settings.format === 'binary' ||
    (request.headers.accept ?? '').includes(V2_BINARY)
  const records = await consumer.records(query.timeout ?? 1000, 500,
    streams.signalFor(reply))
  return reply.type(binary ? V2_BINARY : V2_JSON).send(records.map(r => ({
    topic: r.topic, key: renderV2(r.key, binary), value: renderV2(r.value, binary),
    partition: r.partition, offset: r.offset })))
}
