/**
 * The shape every Kafka API module in `apis/` exports: its key, the versions we implement, where
 * its flexible (KIP-482) versions start, and the four codecs. The broker uses
 * `decodeRequest`/`encodeResponse`; the lean client in `src/client/` uses
 * `encodeRequest`/`decodeResponse`; tests round-trip both ways.
 *
 * Versions are gated inside one codec per direction (docs/architecture.md, "Conventions"): no
 * file per version.
 */
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

export interface ApiDefinition<Request, Response> {
  readonly key: number
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  /** First flexible version per Kafka's JSON schema (`flexibleVersions`); Infinity if none. */
  readonly flexibleFrom: number
  decodeRequest (reader: Reader, version: number): Request
  encodeRequest (writer: Writer, version: number, request: Request): void
  decodeResponse (reader: Reader, version: number): Response
  encodeResponse (writer: Writer, version: number, response: Response): void
  /**
   * The response that answers `request` with `errorCode` everywhere the response has an error
   * (Kafka's AbstractRequest.getErrorResponse): per partition where it has partitions, per
   * topic, group or resource otherwise, and in the top-level error_code where there is one.
   * Used when a handler or the encoding of its response fails. Encodable for every request the
   * decoder accepts, since decoded strings are bounded (decode-limits.ts).
   */
  errorResponse? (request: Request, version: number, errorCode: number): Response
}

/** An API built by `defineApi`, which always gives one its error response. */
export type DefinedApi<Request, Response> = ApiDefinition<Request, Response> &
  Required<Pick<ApiDefinition<Request, Response>, 'errorResponse'>>

export function isFlexible (api: { flexibleFrom: number }, version: number): boolean {
  return version >= api.flexibleFrom
}
