/**
 * The HTTP listener (fastify): Tributary's /api/v1, REST Proxy v2 compatibility, health,
 * readiness, Prometheus metrics, and an OpenAPI description (/openapi.json, Swagger UI at /docs).
 *
 * Every error is `{ error_code, message }` (REST Proxy style codes, errors.ts), schema failures
 * add `validation_errors`, one per bad field; bad input is always a 4xx. Bodies over the limit
 * are refused with 413 while streaming in, before they are buffered whole (fastify bodyLimit).
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { unpack } from 'msgpackr'
import type { Broker } from '../broker/broker.js'
import type { Metrics } from '../metrics/metrics.js'
import { HttpError } from './errors.js'
import { MSGPACK, sendBody } from './respond.js'
import { registerApiV1 } from './routes/api-v1.js'
import { registerRestProxyV2, V2_BINARY, V2_JSON } from './routes/rest-proxy.js'
import { registerConsumers } from './routes/consumers.js'
import { ConsumerInstances } from './consumer-instances.js'

export interface HttpServerOptions {
  broker: Broker
  metrics: Metrics
  host: string
  port: number
  /** True once the Kafka listener accepts connections (and until shutdown starts). */
  ready: () => boolean
  /** Largest request body; above it the request is refused with 413. */
  bodyLimitBytes?: number
  /** consumer.instance.timeout.ms: an idle HTTP consumer instance leaves its group. */
  consumerInstanceTimeoutMs?: number
}

export interface HttpServer {
  readonly port: number
  readonly app: FastifyInstance
  close (): Promise<void>
}

interface AjvError { instancePath?: string, params?: { missingProperty?: string }, message?: string }

function validationErrors (error: FastifyError): { field: string, message: string }[] {
  return ((error.validation ?? []) as AjvError[]).map(item => {
    const path = (item.instancePath ?? '').replace(/^\//, '').replace(/\/(\d+)/g, '[$1]')
      .replace(/\//g, '.')
    const missing = item.params?.missingProperty
    const field = [error.validationContext === 'body' ? '' : error.validationContext, path,
      missing].filter(part => part !== undefined && part !== '').join('.')
    return { field: field === '' ? (error.validationContext ?? 'body') : field,
      message: item.message ?? 'is invalid' }
  })
}

function installErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      return sendBody(request, reply.code(error.status), {
        error_code: error.errorCode, message: error.message,
        ...(error.validationErrors === undefined ? {} : { validation_errors: error.validationErrors }),
      })
    }
    if (error.validation !== undefined) {
      const errors = validationErrors(error)
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
  app.addContentTypeParser([V2_JSON, V2_BINARY, 'application/vnd.kafka.v2+json'],
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

export async function buildHttpApp (options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes ?? 16 * 1024 * 1024,
    ajv: { customOptions: { allErrors: true, coerceTypes: true, allowUnionTypes: true } },
  })
  installErrorHandling(app)
  installContentTypes(app)
  await app.register(swagger, {
    openapi: { info: { title: 'Tributary HTTP API', version: '0.1.0' } },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpSeconds.observe({
      method: request.method, route: request.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    }, reply.elapsedTime / 1000)
  })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    if (!options.ready()) {
      return reply.code(503).send({ error_code: 50301, message: 'broker is not ready' })
    }
    return { status: 'ready' }
  })
  app.get('/metrics', async (_request, reply) => {
    const body = await options.metrics.registry.metrics()
    return reply.type(options.metrics.registry.contentType).send(body)
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  registerApiV1(app, options.broker)
  registerRestProxyV2(app, options.broker)
  const instances = new ConsumerInstances(options.broker,
    options.consumerInstanceTimeoutMs ?? 300_000)
  registerConsumers(app, options.broker, instances)
  app.addHook('onClose', async () => { await instances.closeAll() })
  return app
}

export async function startHttpServer (options: HttpServerOptions): Promise<HttpServer> {
  const app = await buildHttpApp(options)
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  return { port, app, close: () => app.close() }
}
