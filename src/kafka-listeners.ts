/**
 * The broker's Kafka listeners, built by the composition root: PLAINTEXT on `port`, and an
 * EXTERNAL one on `external.listener.port` if configured. Both share one request budget and one
 * set of connection quotas, and the same per-connection limits.
 */
import type { Broker, BrokerSettings } from './broker/broker.js'
import type { BrokerConfig } from './config/index.js'
import type { Logger } from './main.js'
import type { Metrics } from './metrics/metrics.js'
import { ConnectionQuotas } from './network/connection-quotas.js'
import { RequestBudget } from './network/request-budget.js'
import { KafkaServer, type KafkaServerOptions } from './network/server.js'

/**
 * Unsent response bytes of one connection above which it stops reading requests; a client that
 * does not read its socket holds at most this plus one response.
 */
const RESPONSE_BUFFER_BYTES_MAX = 16 * 1024 * 1024
/** Room over fetch.max.bytes + socket.request.max.bytes for a response's headers and fields. */
const RESPONSE_MARGIN_BYTES = 1024 * 1024

/** An address a listener other than PLAINTEXT advertises, as registered with the broker. */
export interface ListenerEndpoint {
  listener: string
  host: string
  port: number
}

export interface KafkaListeners {
  kafkaServer: KafkaServer
  externalServer: KafkaServer | undefined
  /** The EXTERNAL listener's advertised address, if there is one. */
  endpoints: ListenerEndpoint[]
}

/**
 * Listens for Kafka on PLAINTEXT, then sets the broker's advertised port to the one it bound
 * (unless `advertised.port` says otherwise), then listens on EXTERNAL if configured.
 */
export async function startListeners (config: BrokerConfig, logger: Logger, broker: Broker,
  settings: BrokerSettings, metrics: Metrics): Promise<KafkaListeners> {
  // One budget and one set of connection quotas for every listener, broker-wide as in Kafka.
  const budget = new RequestBudget(config.queuedMaxRequestBytes, config.queuedMaxRequests)
  const quotas = new ConnectionQuotas(config.maxConnections, config.maxConnectionsPerIp)
  const listenerOptions = (listener: string, port: number): KafkaServerOptions => ({
    host: config.host,
    port,
    quotas,
    limits: {
      listener,
      maxFrameBytes: config.socketRequestMaxBytes,
      inflightRequestsMax: config.connectionMaxInflightRequests,
      responseBufferBytesMax: RESPONSE_BUFFER_BYTES_MAX,
      // A Fetch answers at most fetch.max.bytes, plus one batch as large as a produce request
      // may carry; no well-formed answer needs more than that and a margin for its framing.
      responseBytesMax: config.fetchMaxBytes + config.socketRequestMaxBytes + RESPONSE_MARGIN_BYTES,
      idleTimeoutMs: config.connectionsMaxIdleMs,
      frameTimeoutMs: config.requestFrameTimeoutMs,
    },
    budget,
    logger,
    onConnectionCountChange: () => metrics.setConnections(quotas.count),
  })
  const kafkaServer = new KafkaServer(listenerOptions('PLAINTEXT', config.port), broker)
  await kafkaServer.listen()
  settings.advertisedPort = config.advertisedPort ?? kafkaServer.port
  // An EXTERNAL listener (for clients outside a container network) answers Metadata with
  // its own advertised address, as Kafka's advertised.listeners does per listener.
  let externalServer: KafkaServer | undefined
  const endpoints: ListenerEndpoint[] = []
  if (config.externalListenerPort !== undefined) {
    externalServer = new KafkaServer(listenerOptions('EXTERNAL', config.externalListenerPort),
      broker)
    try {
      await externalServer.listen()
    } catch (error) {
      await kafkaServer.close(0)
      throw error
    }
    endpoints.push({ listener: 'EXTERNAL', host: config.externalAdvertisedHost,
      port: config.externalAdvertisedPort ?? externalServer.port })
  }
  return { kafkaServer, externalServer, endpoints }
}

/** Stops both listeners; each connection gets `drainTimeoutMs` to finish its requests. */
export async function closeListeners (listeners: KafkaListeners,
  drainTimeoutMs: number): Promise<void> {
  await Promise.all([listeners.kafkaServer.close(drainTimeoutMs),
    listeners.externalServer?.close(drainTimeoutMs)])
}
