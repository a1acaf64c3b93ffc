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

const CONNECT_TIMEOUT_MS = 5_000
/** The largest answer read; a fetch is capped well below this. */
const RESPONSE_FRAME_MAX = 256 * 1024 * 1024
/** Time given to the broker to take in a frame that is cut off on purpose, before leaving. */
const INCOMPLETE_FRAME_LINGER_MS = 20

export class FuzzLane {
  readonly #host: string
  readonly #port: number
  #socket: net.Socket | undefined
  #decoder = new FrameDecoder(RESPONSE_FRAME_MAX)
  #settle: ((outcome: Outcome) => void) | undefined
  #awaited: number | undefined
  /** After an acks=0 produce, whose failure Kafka answers by closing the connection. */
  #reconnectBeforeNext = false
  /** Connections this lane has opened. */
  opened = 0

  constructor (host: string, port: number) {
    this.#host = host
    this.#port = port
  }

  async send (request: FuzzRequest, timeoutMs: number): Promise<Outcome> {
    if (this.#reconnectBeforeNext) this.close()
    this.#reconnectBeforeNext = request.valid && !request.expectsResponse
    const socket = this.#socket ?? await this.#connect()
    if (typeof socket === 'string') return { kind: 'connect-failed', message: socket }
    if (request.endsConnection) {
      socket.write(request.frame)
      await delay(INCOMPLETE_FRAME_LINGER_MS)
      this.close()
      return { kind: 'sent' }
    }
    return new Promise<Outcome>(resolve => {
      const timer = setTimeout(() => {
        this.#settle = undefined
        this.close()
        resolve({ kind: 'timeout' })
      }, request.expectsResponse || !request.valid ? timeoutMs : 0)
      this.#awaited = request.correlationId
      this.#settle = outcome => {
        clearTimeout(timer)
        this.#settle = undefined
        resolve(outcome)
      }
      socket.write(request.frame)
      if (request.valid && !request.expectsResponse) {
        clearTimeout(timer)
        this.#settle = undefined
        resolve({ kind: 'sent' })
      }
    })
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
      this.#settle?.({ kind: 'closed' })
      return
    }
    for (const frame of frames) {
      // Answers to requests given up on were on a connection since closed; any other
      // frame is the one awaited (the broker answers in order).
      if (frame.length >= 4 && frame.readInt32BE(0) === this.#awaited) {
        this.#settle?.({ kind: 'answered', frame })
      }
    }
  }

  #onClose (socket: net.Socket): void {
    if (this.#socket !== socket) return
    this.#socket = undefined
    this.#decoder = new FrameDecoder(RESPONSE_FRAME_MAX)
    this.#settle?.({ kind: 'closed' })
  }
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
