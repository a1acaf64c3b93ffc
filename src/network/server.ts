/**
 * The Kafka listener: accepts TCP connections and gives each a `Connection`.
 *
 * Limits: at most `connectionsMax` connections at once (Kafka's `max.connections`); one more is
 * closed at once. Shutdown: `close()` stops accepting, lets every connection finish its in-flight
 * requests (bounded by `drainTimeoutMs`), then closes them all.
 */
import { listenTcp, type TcpListener, type TcpSocket } from '../io/tcp.js'
import type { RequestDispatcher } from '../broker/request-context.js'
import { Connection, type ConnectionLimits, type ConnectionLogger } from './connection.js'

export interface KafkaServerOptions {
  host: string
  port: number
  connectionsMax: number
  limits: ConnectionLimits
  logger: ConnectionLogger
  onConnectionCountChange?: (count: number) => void
}

export class KafkaServer {
  readonly #options: KafkaServerOptions
  readonly #dispatcher: RequestDispatcher
  readonly #connections = new Set<Connection>()
  #listener: TcpListener | undefined
  #nextConnectionId = 1

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
    if (this.#connections.size >= this.#options.connectionsMax) {
      this.#options.logger.warn(`refusing connection: ${this.#options.connectionsMax} ` +
        'connections open (max.connections)')
      socket.destroy()
      return
    }
    const connection = new Connection(this.#nextConnectionId++, socket, this.#dispatcher,
      this.#options.limits, this.#options.logger)
    this.#connections.add(connection)
    this.#options.onConnectionCountChange?.(this.#connections.size)
    connection.onClose(() => {
      this.#connections.delete(connection)
      this.#options.onConnectionCountChange?.(this.#connections.size)
    })
  }

  async close (drainTimeoutMs: number): Promise<void> {
    // The listener's close completes only when every connection is gone, so start it first
    // (it stops accepting at once) and await it last.
    const listenerClosed = this.#listener?.close()
    const drains = [...this.#connections].map(connection => connection.drain())
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(drains),
      new Promise<void>(resolve => { timer = setTimeout(resolve, drainTimeoutMs) }),
    ])
    clearTimeout(timer)
    for (const connection of [...this.#connections]) connection.close()
    await listenerClosed
  }
}
