/**
 * The HTTP listener (fastify): Tributary's /api/v1, REST Proxy v2 compatibility, health,
 * readiness, Prometheus metrics, and an OpenAPI description (/openapi.json, Swagger UI at /docs).
 *
 * Every error is `{ error_code, message }` (REST Proxy style codes, errors.ts), schema failures
 * add `validation_errors`, one per bad field; bad input is always a 4xx. Bodies over the limit
 * are refused with 413 while streaming in, before they are buffered whole (fastify bodyLimit).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply,
  type FastifyRequest } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { unpack } from 'msgpackr'
import type { Broker } from '../broker/broker.js'
import type { LatencySampler } from '../broker/latency-sampler.js'
import type { Metrics } from '../metrics/metrics.js'
import { HttpError, schemaErrors } from './errors.js'
import { MSGPACK, sendBody } from './respond.js'
import { registerApiV1 } from './routes/api-v1.js'
import { registerRestProxyV2, V2, V2_BINARY, V2_JSON } from './routes/rest-proxy.js'
import { registerConsumers } from './routes/consumers.js'
import { ConsumerInstances } from './consumer-instances.js'
import { LeaderRouter } from './leader-router.js'
import { OpenStreams } from './open-streams.js'
import { addSharedSchemas, FORMAT_MEANINGS, PATTERN_MEANINGS, ref, TAG } from './schemas.js'

export interface HttpServerOptions {
  broker: Broker
  metrics: Metrics
  /** The debug latency breakdown (GET /debug/latency), when sampling is on. */
  latencySampler?: LatencySampler
  host: string
  port: number
  /** True once the Kafka listener accepts connections (and until shutdown starts). */
  ready: () => boolean
  /** Largest request body; above it the request is refused with 413. */
  bodyLimitBytes?: number
  /** consumer.instance.timeout.ms: an idle HTTP consumer instance leaves its group. */
  consumerInstanceTimeoutMs: number
  /** http.consumer.instances.max: HTTP consumer instances, pending ones included. */
  consumerInstancesMax: number
  /** http.sse.streams.max: server-sent event streams open at once. */
  sseStreamsMax: number
  /** http.connections.max: connections open at once; a new one past it is closed at once. */
  connectionsMax?: number
}

export interface HttpServer {
  readonly port: number
  readonly app: FastifyInstance
  close (): Promise<void>
}

function installErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      return sendBody(request, reply.code(error.status), {
        error_code: error.errorCode, message: error.message,
        ...(error.validationErrors === undefined
          ? {}
          : { validation_errors: error.validationErrors }),
      })
    }
    if (error.validation !== undefined) {
      const errors = schemaErrors(error.validationContext ?? 'body', error.validation,
        { patterns: PATTERN_MEANINGS, formats: FORMAT_MEANINGS })
      return sendBody(request, reply.code(422), {
        error_code: 42206,
        message: errors.map(item => `${item.field} ${item.message}`).join('; '),
        validation_errors: errors,
      })
    }
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      const message = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'request body is larger than the limit'
        : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? `unsupported Content-Type ${request.headers['content-type'] ?? '(none)'}: use ` +
            `application/json, ${MSGPACK}, ${V2_JSON} or ${V2_BINARY}`
          : `body: ${error.message}`
      return sendBody(request, reply.code(status), { error_code: status * 100 + 1, message })
    }
    request.log.error(error)
    return sendBody(request, reply.code(500), { error_code: 50001,
      message: `internal error: ${error.message}` })
  })
  app.setNotFoundHandler((request, reply) => sendBody(request, reply.code(404),
    { error_code: 40400, message: `no route ${request.method} ${request.url}` }))
}

function installContentTypes (app: FastifyInstance): void {
  // Plain text is not a body format of this API: refuse it with 415 rather than parse it.
  app.removeContentTypeParser('text/plain')
  const parseJson = app.getDefaultJsonParser('error', 'error')
  // REST Proxy v2 bodies: records in JSON or binary form, and consumer requests in plain v2.
  app.addContentTypeParser([V2_JSON, V2_BINARY, V2],
    { parseAs: 'string' }, parseJson)
  app.addContentTypeParser(MSGPACK, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, unpack(body as Buffer))
    } catch (error) {
      done(new HttpError(400, 2, `body is not valid msgpack: ${(error as Error).message}`),
        undefined)
    }
  })
}

const OPENAPI = {
  info: {
    title: 'Tributary HTTP API',
    version: '0.1.0',
    description: 'Produce, consume and stream records, manage topics and consumer groups ' +
      '(Tributary\'s own API under /api/v1, and Confluent REST Proxy v2\'s). Every error is ' +
      '`{ error_code, message }`.',
  },
  tags: [
    { name: TAG.native, description: 'Topics, produce, consume and server-sent events' },
    { name: TAG.consumers, description: 'Consumer group members over HTTP' },
    { name: TAG.restProxy, description: 'Confluent REST Proxy v2 compatible routes' },
    { name: TAG.operations, description: 'Health, readiness and Prometheus metrics' },
  ],
}

const StatusSchema = { type: 'object', properties: { status: { type: 'string' } } }

function registerOperations (app: FastifyInstance, options: HttpServerOptions): void {
  const tags = [TAG.operations]
  app.get('/healthz', { schema: { tags, summary: 'Liveness: the process answers',
    response: { 200: { description: 'Alive', ...StatusSchema, examples: [{ status: 'ok' }] } } },
  }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { tags, summary: 'Readiness: the Kafka listener accepts clients',
    response: { 200: { description: 'Ready', ...StatusSchema, examples: [{ status: 'ready' }] },
      503: { description: 'Starting or shutting down', ...ref('Error') } } },
  }, async (_request, reply) => {
    if (!options.ready()) {
      return reply.code(503).send({ error_code: 50301, message: 'broker is not ready' })
    }
    return { status: 'ready' }
  })
  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics (text format)',
    response: { 200: { description: 'Prometheus text exposition format',
      content: { 'text/plain': { schema: { type: 'string' } } } } } },
  }, async (_request, reply) => {
    const body = await options.metrics.registry.metrics()
    return reply.type(options.metrics.registry.contentType).send(body)
  })
  const sampler = options.latencySampler
  if (sampler === undefined) return
  app.get('/debug/latency', { schema: { tags,
    summary: 'Debug latency breakdown since the window began ' +
      '(tributary.debug.latency.sample.rate > 0 only; DELETE starts a new window)',
    response: { 200: { description: 'Per-stage percentiles of sampled produced batches (ms), ' +
      'with the broker\'s event-loop delay and GC pauses over the window',
    type: 'object', additionalProperties: true,
    examples: [{ sampleRate: 0.01, traces: 120, stagesMs: {} }] } } },
  }, async () => await sampler.report())
  app.delete('/debug/latency', { schema: { tags,
    summary: 'Start a new debug latency window without computing a report',
    response: { 204: { description: 'The samples so far were dropped', type: 'null' } } },
  }, async (_request, reply) => {
    sampler.reset()
    return reply.code(204).send()
  })
}

export async function buildHttpApp (options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes ?? 16 * 1024 * 1024,
    // Longer than any name the schemas allow once percent-encoded (255 characters of up to 4
    // UTF-8 bytes, 3 characters each: 3,060), so an over-long path parameter reaches validation
    // and is refused naming its field rather than as a bare 414.
    routerOptions: { maxParamLength: 4096 },
    // Router refusals (a bad URL, a parameter past that length) in the one error shape, without
    // echoing the URL.
    frameworkErrors: (error, request, genericReply) => {
      // The generic reply type is the plain one here (fastify's typing of this hook is wider).
      const reply = genericReply as unknown as FastifyReply
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      void sendBody(request as FastifyRequest, reply.code(tooLong ? 414 : 400), {
        error_code: tooLong ? 41401 : 40001,
        message: tooLong ? 'a path parameter is longer than 4096 characters'
          : 'the URL cannot be decoded' })
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: true, allowUnionTypes: true } },
  })
  // Response schemas describe the API in /openapi.json; bodies are still written by
  // JSON.stringify, so a schema can never silently drop a field a route returns.
  app.setSerializerCompiler(() => data => JSON.stringify(data))
  installErrorHandling(app)
  installContentTypes(app)
  addSharedSchemas(app)
  await app.register(swagger, {
    openapi: OPENAPI,
    // Shared schemas become components.schemas under their own $id.
    refResolver: { buildLocalReference: json => String(json.$id) },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpSeconds.observe({
      method: request.method, route: request.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    }, reply.elapsedTime / 1000)
  })
  registerOperations(app, options)
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  const streams = new OpenStreams(options.sseStreamsMax)
  // Produce and consume run on the partition's leader, here or on another broker.
  const router = new LeaderRouter(options.broker)
  registerApiV1(app, router, streams)
  registerRestProxyV2(app, router)
  const instances = new ConsumerInstances(router, {
    timeoutMs: options.consumerInstanceTimeoutMs,
    max: options.consumerInstancesMax,
  })
  registerConsumers(app, instances, streams)
  // Before the listener waits for open requests: end streams and long polls, or a client
  // holding one open would hold the shutdown.
  app.addHook('preClose', async () => { streams.closeAll() })
  // A response finished while closing ends its connection too: a keep-alive socket that goes
  // idle after the server closed its idle ones would hold the shutdown until its timeout.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (streams.closing) reply.header('connection', 'close')
    return payload
  })
  app.addHook('onClose', async () => {
    await instances.closeAll()
    router.close()
  })
  return app
}

export async function startHttpServer (options: HttpServerOptions): Promise<HttpServer> {
  const app = await buildHttpApp(options)
  if (options.connectionsMax !== undefined) app.server.maxConnections = options.connectionsMax
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  return { port, app, close: () => app.close() }
}
