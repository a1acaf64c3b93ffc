/**
 * Requests that hold a connection open (server-sent event streams, long polls): the cap on
 * open SSE streams, and one signal that ends them all when the server closes, so a SIGTERM
 * never waits on a client that keeps a stream open (server.close waits for open requests).
 */
import type { FastifyReply } from 'fastify'
import { assert } from '../util/assert.js'
import { HttpError } from './errors.js'

export const SSE_STREAMS_MAX_CONFIG = 'http.sse.streams.max'

export class OpenStreams {
  readonly #closing = new AbortController()
  readonly #streams = new Set<AbortController>()
  readonly #max: number

  constructor (max: number) {
    assert(Number.isInteger(max) && max >= 0, `SSE stream limit ${max} is not a count`)
    this.#max = max
  }

  /** True once the server has started closing. */
  get closing (): boolean {
    return this.#closing.signal.aborted
  }

  /**
   * Aborted when the response's connection closes (or the response ends) or the server starts
   * closing. The listener on the shared signal is removed with the response, so it never grows.
   */
  signalFor (reply: FastifyReply): AbortSignal {
    const controller = new AbortController()
    const abort = (): void => controller.abort()
    if (this.#closing.signal.aborted || reply.raw.destroyed || reply.raw.writableEnded) {
      abort()
      return controller.signal
    }
    this.#closing.signal.addEventListener('abort', abort, { once: true })
    reply.raw.once('close', () => {
      this.#closing.signal.removeEventListener('abort', abort)
      abort()
    })
    return controller.signal
  }

  /** Opens an SSE stream, or refuses it (429) at the limit; `release` it when it ends. */
  openStream (reply: FastifyReply): AbortController {
    if (this.#closing.signal.aborted) throw new HttpError(503, 2, 'the server is shutting down')
    if (this.#streams.size >= this.#max) {
      throw new HttpError(429, 2, `at most ${this.#max} server-sent event streams may be open ` +
        `at once (${SSE_STREAMS_MAX_CONFIG}); close one or retry later`)
    }
    const stream = new AbortController()
    const signal = this.signalFor(reply)
    if (signal.aborted) stream.abort()
    signal.addEventListener('abort', () => stream.abort(), { once: true })
    this.#streams.add(stream)
    return stream
  }

  release (stream: AbortController): void {
    this.#streams.delete(stream)
  }

  /** Ends every open stream and long poll: called as the server starts closing. */
  closeAll (): void {
    this.#closing.abort()
  }
}
