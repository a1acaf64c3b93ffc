/**
 * Consumer groups over HTTP: Tributary's /api/v1/consumer-groups and Confluent REST Proxy v2's
 * consumer API (`/consumers/{group}`...). Every instance is a real group member
 * (consumer-instances.ts). As Confluent's proxy does, an offset committed through v2 is stored
 * as the offset sent + 1 (the next record to read), and a v2 instance joins its group when it
 * subscribes, so its first poll already returns data.
 */
import type { FastifyInstance } from 'fastify'
import type { Broker } from '../../broker/broker.js'
import { ERROR } from '../../protocol/errors.js'
import type { ConsumerInstances } from '../consumer-instances.js'
import { fromKafkaError, HttpError } from '../errors.js'
import { sendBody } from '../respond.js'
import { V2_BINARY } from './rest-proxy.js'

const V2_RESPONSE = 'application/vnd.kafka.v2+json'
const offsetsBody = {
  type: 'object',
  properties: {
    offsets: { type: 'array', maxItems: 10_000, items: { type: 'object',
      required: ['topic', 'partition', 'offset'],
      properties: { topic: { type: 'string' }, partition: { type: 'integer', minimum: 0 },
        offset: { type: 'integer', minimum: 0 } } } },
  },
}

function checkCommit (errorCode: number): void {
  if (errorCode === ERROR.NONE) return
  const name = errorCode === ERROR.REBALANCE_IN_PROGRESS ? 'REBALANCE_IN_PROGRESS' : 'COMMIT'
  throw errorCode === ERROR.REBALANCE_IN_PROGRESS
    ? new HttpError(409, 2, 'the group is rebalancing; poll again and retry the commit')
    : fromKafkaError(name, `offset commit failed with error ${errorCode}`, 'offsets')
}

export function registerConsumers (app: FastifyInstance, _broker: Broker,
  instances: ConsumerInstances): void {
  const path = '/api/v1/consumer-groups/:group/instances/:instance'
  type Params = { group: string, instance: string }

  app.post('/api/v1/consumer-groups', {
    schema: { body: { type: 'object', required: ['group_id', 'topics'], additionalProperties: false,
      properties: { group_id: { type: 'string', minLength: 1 },
        topics: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        auto_offset_reset: { type: 'string', enum: ['earliest', 'latest'] } } } },
  }, async (request, reply) => {
    const body = request.body as { group_id: string, topics: string[],
      auto_offset_reset?: 'earliest' | 'latest' }
    const instance = await instances.create(body.group_id, body.topics,
      body.auto_offset_reset ?? 'latest')
    return sendBody(request, reply.code(201), {
      group_id: body.group_id, instance_id: instance.instanceId, member_id: instance.memberId,
      base_uri: `/api/v1/consumer-groups/${body.group_id}/instances/${instance.instanceId}`,
      assignment: instance.assignment,
    })
  })

  app.get(`${path}/records`, {
    schema: { querystring: { type: 'object', properties: {
      max_wait_ms: { type: 'integer', minimum: 0, maximum: 30_000 },
      limit: { type: 'integer', minimum: 1, maximum: 10_000 } } } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    const query = request.query as { max_wait_ms?: number, limit?: number }
    const records = await instances.get(group, instance).records(query.max_wait_ms ?? 1000,
      query.limit ?? 500)
    return sendBody(request, reply, { records })
  })

  app.post(`${path}/offsets`, { schema: { body: offsetsBody } }, async (request, reply) => {
    const { group, instance } = request.params as Params
    const body = (request.body ?? {}) as { offsets?: { topic: string, partition: number,
      offset: number }[] }
    const consumer = instances.get(group, instance)
    checkCommit(await consumer.commit(body.offsets))
    return sendBody(request, reply, { offsets: consumer.committed() })
  })

  app.get(`${path}/offsets`, async (request, reply) => {
    const { group, instance } = request.params as Params
    return sendBody(request, reply, { offsets: instances.get(group, instance).committed() })
  })

  app.delete(path, async (request, reply) => {
    const { group, instance } = request.params as Params
    await instances.delete(group, instance)
    return reply.code(204).send()
  })

  // REST Proxy v2: create, subscribe, poll, commit, delete.
  const v2Pending = new Map<string, { format: string, reset: 'earliest' | 'latest' }>()
  app.post('/consumers/:group', async (request, reply) => {
    const { group } = request.params as { group: string }
    const body = (request.body ?? {}) as { name?: string, format?: string,
      'auto.offset.reset'?: string }
    const name = body.name ?? `rest-consumer-${v2Pending.size + 1}-${Date.now()}`
    const reset = body['auto.offset.reset'] === 'earliest' ? 'earliest' : 'latest'
    if (v2Pending.size >= 1000) throw new HttpError(429, 1, 'too many pending instances')
    v2Pending.set(`${group}/${name}`, { format: body.format ?? 'json', reset })
    return reply.type(V2_RESPONSE).send({ instance_id: name,
      base_uri: `http://${request.headers.host ?? 'localhost'}/consumers/${group}/instances/${name}` })
  })

  app.post('/consumers/:group/instances/:instance/subscription', {
    schema: { body: { type: 'object', required: ['topics'], properties: {
      topics: { type: 'array', minItems: 1, items: { type: 'string' } } } } },
  }, async (request, reply) => {
    const { group, instance } = request.params as Params
    const pending = v2Pending.get(`${group}/${instance}`)
    if (pending === undefined) throw new HttpError(404, 3, `consumer instance '${instance}' not found`)
    await instances.create(group, (request.body as { topics: string[] }).topics, pending.reset,
      instance)
    return reply.code(204).send()
  })

  app.get('/consumers/:group/instances/:instance/records', async (request, reply) => {
    const { group, instance } = request.params as Params
    const binary = v2Pending.get(`${group}/${instance}`)?.format === 'binary' ||
      (request.headers.accept ?? '').includes(V2_BINARY)
    const records = await instances.get(group, instance).records(1000, 500)
    const render = (value: unknown): unknown => {
      if (value === null) return null
      const text = typeof value === 'string' ? value : Buffer.from((value as { base64: string })
        .base64, 'base64').toString()
      if (binary) return Buffer.from(text).toString('base64')
      try { return JSON.parse(text) } catch { return text }
    }
    return reply.type(binary ? 'application/vnd.kafka.binary.v2+json'
      : 'application/vnd.kafka.json.v2+json').send(records.map(r => ({
      topic: r.topic, key: render(r.key), value: render(r.value), partition: r.partition,
      offset: r.offset })))
  })

  app.post('/consumers/:group/instances/:instance/offsets', { schema: { body: offsetsBody } },
    async (request, reply) => {
      const { group, instance } = request.params as Params
      const body = (request.body ?? {}) as { offsets?: { topic: string, partition: number,
        offset: number }[] }
      const consumer = instances.get(group, instance)
      // Confluent's proxy stores the offset after the one sent: the next record to read.
      checkCommit(await consumer.commit(body.offsets?.map(o => ({ ...o, offset: o.offset + 1 }))))
      return reply.code(200).type(V2_RESPONSE).send()
    })

  app.delete('/consumers/:group/instances/:instance', async (request, reply) => {
    const { group, instance } = request.params as Params
    v2Pending.delete(`${group}/${instance}`)
    await instances.delete(group, instance)
    return reply.code(204).send()
  })
}
