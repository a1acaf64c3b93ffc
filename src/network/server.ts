/**
 * The Kafka listener: accepts TCP connections and gives each a `Connection`.
 *
 * Limits: the broker-wide `ConnectionQuotas` (max.connections, max.connections.per.ip) decide
 * whether a new connection may open; one past them is closed at once, as Kafka does. Refusals
 * are logged at most once per `REFUSAL_LOG_INTERVAL_MS` with a count, so a flood cannot flood
 * the log. Every connection of every listener shares one `RequestBudget`.
 *
 * Shutdown: `close()` stops accepting, lets every connection finish its in-flight requests
 * (bounded by `drainTimeoutMs`), then closes them all.
 */
import { listenTcp, type TcpListener, type TcpSocket } from '../io/tcp.js'
import type { RequestDispatcher } from '../broker/request-context.js'
import { clampTimeoutMs } from '../util/timeout.js'
import { Connection, type ConnectionLimits, type ConnectionLogger } from './connection.js'
import type { ConnectionQuotas } from './connection-quotas.js'
import type { RequestBudget } from './request-budget.js'

const REFUSAL_LOG_INTERVAL_MS = 10_000

export interface KafkaServerOptions {
  host: string
  port: number
  quotas: ConnectionQuotas
  limits: ConnectionLimits
  budget: RequestBudget
  logger: ConnectionLogger
  onConnectionCountChange?: (count: number) => void
}

export class KafkaServer {
  readonly #options: KafkaServerOptions
  readonly #dispatcher: RequestDispatcher
  readonly #connections = new Set<Connection>()
  #listener: TcpListener | undefined
  #nextConnectionId = 1
  #refusedSinceLog = 0
  #lastRefusalLogMs = Number.NEGATIVE_INFINITY

  constructor (options: KafkaServerOptions, dispatcher: RequestDispatcher) {
    this.#options = options
    this.#dispatcher = dispatcher
  }

  get port (): number {
    return this.#listener?.port ?? this.#options.port
  }

  get connectionCount (): number {
    return this.#connections.size
  }

  async listen (): Promise<void> {
    this.#listener = await listenTcp(this.#options.host, this.#options.port,
      socket => this.#accept(socket))
  }

  #accept (socket: TcpSocket): void {
    const address = socket.remoteAddress ?? '?'
    const refusal = this.#options.quotas.acquire(address)
    if (refusal !== undefined) {
      this.#refuse(socket, refusal)
      return
    }
    const connection = new Connection(this.#nextConnectionId++, socket, this.#dispatcher,
      this.#options.limits, this.#options.logger, this.#options.budget)
    this.#connections.add(connection)
    this.#options.onConnectionCountChange?.(this.#connections.size)
    connection.onClose(() => {
      this.#connections.delete(connection)
      this.#options.quotas.release(address)
      this.#options.onConnectionCountChange?.(this.#connections.size)
    })
  }

  #refuse (socket: TcpSocket, why: string): void {
    socket.on('error', () => undefined)
    socket.destroy()
    this.#refusedSinceLog++
    const nowMs = performance.now()
    if (nowMs - this.#lastRefusalLogMs < REFUSAL_LOG_INTERVAL_MS) return
    const others = this.#refusedSinceLog - 1
    this.#options.logger.warn(`refusing connection: ${why}` +
      (others > 0 ? ` (and ${others} more since the previous report)` : ''))
    this.#refusedSinceLog = 0
    this.#lastRefusalLogMs = nowMs
  }

  async close (drainTimeoutMs: number): Promise<void> {
    // The listener's close completes only when every connection is gone, so start it first
    // (it stops accepting at once) and await it last.
    const listenerClosed = this.#listener?.close()
    const drains = [...this.#connections].map(connection => connection.drain())
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(drains),
      new Promise<void>(resolve => { timer = setTimeout(resolve, clampTimeoutMs(drainTimeoutMs)) }),
    ])
    clearTimeout(timer)
    for (const connection of [...this.#connections]) connection.close()
    await listenerClosed
  }
}
