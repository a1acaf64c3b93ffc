/**
 * The Kafka listener: accepts TCP connections and gives each a `Connection`.
 *
 * Limits: at most `connectionsMax` connections at once (Kafka's `max.connections`) and at most
 * `connectionsPerIpMax` from one address (Kafka's `max.connections.per.ip`); a connection past
 * either is closed at once, as Kafka does. Refusals are logged at most once per
 * `REFUSAL_LOG_INTERVAL_MS` with a count, so a flood cannot flood the log. Every connection of
 * every listener shares one `RequestBudget`.
 *
 * Shutdown: `close()` stops accepting, lets every connection finish its in-flight requests
 * (bounded by `drainTimeoutMs`), then closes them all.
 */
import { listenTcp, type TcpListener, type TcpSocket } from '../io/tcp.js'
import type { RequestDispatcher } from '../broker/request-context.js'
import { clampTimeoutMs } from '../util/timeout.js'
import { Connection, type ConnectionLimits, type ConnectionLogger } from './connection.js'
import type { RequestBudget } from './request-budget.js'

const REFUSAL_LOG_INTERVAL_MS = 10_000

export interface KafkaServerOptions {
  host: string
  port: number
  connectionsMax: number
  connectionsPerIpMax: number
  limits: ConnectionLimits
  budget: RequestBudget
  logger: ConnectionLogger
  onConnectionCountChange?: (count: number) => void
}

export class KafkaServer {
  readonly #options: KafkaServerOptions
  readonly #dispatcher: RequestDispatcher
  readonly #connections = new Set<Connection>()
  /** Open connections per client address; at most one entry per open connection. */
  readonly #perIp = new Map<string, number>()
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
    const fromAddress = this.#perIp.get(address) ?? 0
    if (this.#connections.size >= this.#options.connectionsMax) {
      this.#refuse(socket, `${this.#options.connectionsMax} connections open (max.connections)`)
      return
    }
    if (fromAddress >= this.#options.connectionsPerIpMax) {
      this.#refuse(socket, `${fromAddress} connections open from ${address} ` +
        '(max.connections.per.ip)')
      return
    }
    const connection = new Connection(this.#nextConnectionId++, socket, this.#dispatcher,
      this.#options.limits, this.#options.logger, this.#options.budget)
    this.#connections.add(connection)
    this.#perIp.set(address, fromAddress + 1)
    this.#options.onConnectionCountChange?.(this.#connections.size)
    connection.onClose(() => {
      this.#connections.delete(connection)
      const left = (this.#perIp.get(address) ?? 1) - 1
      if (left > 0) this.#perIp.set(address, left)
      else this.#perIp.delete(address)
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
