/**
 * A fault-injecting TCP proxy for the replication fault tests: it listens on an ephemeral
 * loopback port and forwards every connection to a target port. Its mode can change at any
 * time:
 *
 * - `pass`: bytes flow both ways unchanged;
 * - `drop`: every open connection is closed and new ones are closed as they arrive (a refused
 *   or reset link);
 * - `blackhole`: connections are accepted and kept, but nothing is forwarded either way: a
 *   network partition where packets vanish and TCP keeps retrying. The proxy stops reading, so
 *   the bytes wait in the kernel's buffers (bounded) rather than in ours; on healing they flow
 *   again, as retransmitted segments would;
 * - `delay`: each chunk is forwarded `delayMs` after it arrived, in order (a slow link).
 *
 * Why a proxy rather than network namespaces: a proxy needs no root, works with etcd and the
 * brokers on one loopback interface, and cuts exactly the links a test names (a broker's etcd
 * link, the inter-broker listener), while the test's own clients keep talking to every broker
 * through its EXTERNAL listener.
 *
 * Each direction of a connection holds at most QUEUE_BYTES_MAX bytes; past that the proxy stops
 * reading from the sender until the queue drains. `close` ends every socket and timer.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'drop' }
  | { kind: 'blackhole' }
  | { kind: 'delay', delayMs: number }

const QUEUE_BYTES_MAX = 4 * 1024 * 1024
const CONNECT_TIMEOUT_MS = 5_000

/** One direction of one proxied connection: source → queue → sink. */
class Pipe {
  readonly #source: Socket
  readonly #sink: Socket
  readonly #proxy: FaultProxy
  readonly #queue: { chunk: Buffer, dueMs: number }[] = []
  #queuedBytes = 0
  #timer: NodeJS.Timeout | undefined
  #sinkFull = false

  constructor (source: Socket, sink: Socket, proxy: FaultProxy) {
    this.#source = source
    this.#sink = sink
    this.#proxy = proxy
    source.on('data', chunk => this.#push(chunk))
    sink.on('drain', () => {
      this.#sinkFull = false
      this.pump()
    })
  }

  #push (chunk: Buffer): void {
    this.#queue.push({ chunk, dueMs: Date.now() + this.#proxy.delayMs })
    this.#queuedBytes += chunk.length
    this.pump()
  }

  /** Forwards what is due, unless blackholed; reads on only while there is room. */
  pump (): void {
    if (this.#sink.destroyed) return
    const blackholed = this.#proxy.mode.kind === 'blackhole'
    const now = Date.now()
    while (!blackholed && !this.#sinkFull && this.#queue.length > 0 &&
      (this.#queue[0]?.dueMs ?? 0) <= now) {
      const head = this.#queue.shift() as { chunk: Buffer, dueMs: number }
      this.#queuedBytes -= head.chunk.length
      if (!this.#sink.write(head.chunk)) this.#sinkFull = true
    }
    this.#arm(blackholed, now)
    if (blackholed || this.#sinkFull || this.#queuedBytes >= QUEUE_BYTES_MAX) this.#source.pause()
    else this.#source.resume()
  }

  #arm (blackholed: boolean, now: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const head = this.#queue[0]
    if (blackholed || this.#sinkFull || head === undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.pump()
    }, Math.max(0, head.dueMs - now))
  }

  close (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#queue.length = 0
    this.#queuedBytes = 0
  }
}

interface Link { client: Socket, upstream: Socket, pipes: Pipe[] }

export class FaultProxy {
  readonly #server: Server
  readonly #links = new Set<Link>()
  #targetPort: number | undefined
  #mode: FaultMode = { kind: 'pass' }

  private constructor (server: Server, targetPort: number | undefined) {
    this.#server = server
    this.#targetPort = targetPort
    server.on('connection', socket => this.#accept(socket))
  }

  /** Starts a proxy on 127.0.0.1 and an ephemeral port; `targetPort` may be set later. */
  static async start (targetPort?: number, name = 'proxy'): Promise<FaultProxy> {
    const server = createServer()
    const proxy = new FaultProxy(server, targetPort)
    proxy.name = name
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  name = 'proxy'

  get port (): number {
    const address = this.#server.address()
    if (address === null || typeof address !== 'object') throw new Error(`${this.name} closed`)
    return address.port
  }

  get mode (): FaultMode {
    return this.#mode
  }

  get delayMs (): number {
    return this.#mode.kind === 'delay' ? this.#mode.delayMs : 0
  }

  get openLinks (): number {
    return this.#links.size
  }

  /** Where new connections go (a restarted broker binds a new port). */
  setTarget (port: number): void {
    this.#targetPort = port
  }

  setMode (mode: FaultMode): void {
    this.#mode = mode
    for (const link of [...this.#links]) {
      if (mode.kind === 'drop') this.#end(link)
      else for (const pipe of link.pipes) pipe.pump()
    }
  }

  async close (): Promise<void> {
    for (const link of [...this.#links]) this.#end(link)
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }

  #accept (client: Socket): void {
    const port = this.#targetPort
    if (this.#mode.kind === 'drop' || port === undefined) {
      client.destroy()
      return
    }
    client.pause()
    const upstream = connect({ host: '127.0.0.1', port })
    upstream.pause()
    const link: Link = { client, upstream, pipes: [] }
    this.#links.add(link)
    const connectTimer = setTimeout(() => this.#end(link), CONNECT_TIMEOUT_MS)
    upstream.once('connect', () => clearTimeout(connectTimer))
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true)
      socket.on('error', () => this.#end(link))
      socket.on('close', () => {
        clearTimeout(connectTimer)
        this.#end(link)
      })
    }
    link.pipes.push(new Pipe(client, upstream, this), new Pipe(upstream, client, this))
    for (const pipe of link.pipes) pipe.pump()
  }

  #end (link: Link): void {
    if (!this.#links.delete(link)) return
    for (const pipe of link.pipes) pipe.close()
    link.client.destroy()
    link.upstream.destroy()
  }
}
