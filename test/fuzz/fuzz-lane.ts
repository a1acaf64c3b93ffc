/**
 * One of the fuzzer's raw connections to the broker: sends one frame at a time and waits for
 * its answer, for the broker to close the connection, or for a timeout, whichever comes
 * first. A lane whose connection was closed (or left mid-frame on purpose) opens a new one
 * before its next request, so the number of open connections never exceeds the lane count.
 */
import net from 'node:net'
import { FrameDecoder } from '../../src/protocol/frame-decoder.js'
import type { FuzzRequest } from './request-generator.js'

export type Outcome =
  | { kind: 'answered', frame: Buffer }
  | { kind: 'closed' }
  | { kind: 'timeout' }
  | { kind: 'sent' }
  | { kind: 'connect-failed', message: string }
  /** An answer came for no request sent, or before the answer to an earlier request. */
  | { kind: 'misordered', message: string }

const CONNECT_TIMEOUT_MS = 5_000
/** The largest answer read; a fetch is capped well below this. */
const RESPONSE_FRAME_MAX = 256 * 1024 * 1024
/** Time given to the broker to take in a frame that is cut off on purpose, before leaving. */
const INCOMPLETE_FRAME_LINGER_MS = 20

/** What one exchange waits for: the answers still due, by correlation id. */
interface Exchange {
  sent: FuzzRequest[]
  outcomes: Outcome[]
  due: Set<number>
  lastAnswered: number
  finish: () => void
}

export class FuzzLane {
  readonly #host: string
  readonly #port: number
  #socket: net.Socket | undefined
  #decoder = new FrameDecoder(RESPONSE_FRAME_MAX)
  #exchange: Exchange | undefined
  /** After an acks=0 produce, whose failure Kafka answers by closing the connection. */
  #reconnectBeforeNext = false
  /** Connections this lane has opened. */
  opened = 0

  constructor (host: string, port: number) {
    this.#host = host
    this.#port = port
  }

  /**
   * Writes the frames back to back (pipelined, when more than one) and waits for their
   * answers, which must come in the order of the requests (Kafka answers a connection's
   * requests in order), until the connection closes or `timeoutMs` passes. A frame cut off
   * on purpose ends what can be sent: requests after it are not sent ('closed').
   */
  async send (requests: FuzzRequest[], timeoutMs: number): Promise<Outcome[]> {
    if (this.#reconnectBeforeNext) this.close()
    const socket = this.#socket ?? await this.#connect()
    if (typeof socket === 'string') {
      return requests.map(() => ({ kind: 'connect-failed', message: socket }))
    }
    const cut = requests.findIndex(request => request.endsConnection)
    const sent = cut === -1 ? requests : requests.slice(0, cut + 1)
    const silent = (request: FuzzRequest): boolean =>
      request.endsConnection || (request.valid && !request.expectsResponse)
    this.#reconnectBeforeNext = sent.some(request => request.valid && !request.expectsResponse)
    const outcomes: Outcome[] = requests.map((request, index) =>
      index < sent.length && silent(request) ? { kind: 'sent' } : { kind: 'closed' })
    const due = new Set(sent.filter(request => !silent(request)).map(r => r.correlationId))
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => {
        for (const [index, request] of sent.entries()) {
          if (due.has(request.correlationId)) outcomes[index] = { kind: 'timeout' }
        }
        this.close()
        finish()
      }, due.size === 0 ? INCOMPLETE_FRAME_LINGER_MS : timeoutMs)
      const finish = (): void => {
        clearTimeout(timer)
        this.#exchange = undefined
        resolve()
      }
      this.#exchange = { sent, outcomes, due, lastAnswered: -1, finish }
      socket.write(sent.length === 1 ? (sent[0] as FuzzRequest).frame
        : Buffer.concat(sent.map(request => request.frame)))
    })
    // What follows a frame cut off on purpose would be read as its continuation.
    if (cut !== -1) this.close()
    return outcomes
  }

  close (): void {
    const socket = this.#socket
    this.#socket = undefined
    this.#decoder = new FrameDecoder(RESPONSE_FRAME_MAX)
    socket?.destroy()
  }

  async #connect (): Promise<net.Socket | string> {
    this.opened++
    return new Promise(resolve => {
      const socket = net.connect({ host: this.#host, port: this.#port })
      const timer = setTimeout(() => {
        socket.destroy()
        resolve(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)
      }, CONNECT_TIMEOUT_MS)
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.setNoDelay(true)
        this.#socket = socket
        socket.on('data', chunk => this.#onData(socket, chunk))
        socket.on('close', () => this.#onClose(socket))
        resolve(socket)
      })
      socket.on('error', error => {
        clearTimeout(timer)
        if (this.#socket !== socket) resolve(`connect failed: ${error.message}`)
      })
    })
  }

  #onData (socket: net.Socket, chunk: Buffer): void {
    if (this.#socket !== socket) return
    let frames: Buffer[]
    try {
      frames = this.#decoder.push(chunk)
    } catch {
      this.close()
      this.#exchange?.finish()
      return
    }
    for (const frame of frames) this.#onAnswer(frame)
  }

  #onAnswer (frame: Buffer): void {
    const exchange = this.#exchange
    if (exchange === undefined) return
    const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1
    const index = exchange.sent.findIndex(request => request.correlationId === correlationId)
    if (index === -1 || index <= exchange.lastAnswered) {
      const at = Math.max(exchange.lastAnswered, 0)
      exchange.outcomes[at] = { kind: 'misordered', message: index === -1
        ? `an answer with correlation id ${correlationId}, which no request in flight has`
        : `the answer to request ${index} of a pipeline came after the answer to request ` +
          `${exchange.lastAnswered}` }
      this.close()
      exchange.finish()
      return
    }
    exchange.outcomes[index] = { kind: 'answered', frame }
    exchange.lastAnswered = index
    exchange.due.delete(correlationId)
    if (exchange.due.size === 0) exchange.finish()
  }

  #onClose (socket: net.Socket): void {
    if (this.#socket !== socket) return
    this.#socket = undefined
    this.#decoder = new FrameDecoder(RESPONSE_FRAME_MAX)
    this.#exchange?.finish()
  }
}
