/**
 * The HTTP listener (fastify): health, readiness and Prometheus metrics, plus the REST routes
 * registered from `routes/`. Every error body has one shape, `{ error_code, message }`.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Broker } from '../broker/broker.js'
import type { Metrics } from '../metrics/metrics.js'

export interface HttpServerOptions {
  broker: Broker
  metrics: Metrics
  host: string
  port: number
  /** True once the Kafka listener accepts connections (and until shutdown starts). */
  ready: () => boolean
}

export interface HttpServer {
  readonly port: number
  readonly app: FastifyInstance
  close (): Promise<void>
}

export async function startHttpServer (options: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({ logger: false })
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
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  return { port, app, close: () => app.close() }
}
