/**
 * What a request handler is given and what the network layer needs from the broker. Defined on
 * the broker's floor so that `network/` depends on `broker/`, never the other way round.
 */
import type { ApiDefinition } from '../protocol/api.js'
import type { RequestHeader } from '../protocol/headers.js'

/** Returned by a handler when the request gets no response at all (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response')
export type NoResponse = typeof NO_RESPONSE

export interface RequestContext {
  readonly connectionId: number
  readonly clientHost: string
  /** The listener the request arrived on (its advertised address goes into Metadata). */
  readonly listener: string
  readonly header: RequestHeader
  readonly api: ApiDefinition<unknown, unknown>
  readonly version: number
  /** Aborted when the connection closes, so long polls can stop early. */
  readonly signal: AbortSignal
}

export interface RequestDispatcher {
  /** The API and the version range served for `apiKey`, or undefined if it is not served. */
  lookup (apiKey: number): { api: ApiDefinition<unknown, unknown>, minVersion: number,
    maxVersion: number } | undefined
  handle (context: RequestContext, request: unknown): Promise<unknown>
  /** Called once per completed request (metrics). */
  onRequestDone? (apiName: string, durationMs: number, failed: boolean): void
  /**
   * Called as each answer is handed to the socket, with how long it waited after it was ready
   * for earlier answers on its connection (the debug latency breakdown).
   */
  onResponseWritten? (apiName: string, behindEarlierMs: number): void
}
