/**
 * kafkajs 2.2.4 as a source of real client bytes: its request encoders give request bodies
 * (without the request header) and its response decoders read what our encoders write.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const REQUESTS = 'kafkajs/src/protocol/requests'

interface KafkajsRequest {
  apiKey: number
  apiVersion: number
  encode: () => Promise<{ buffer: Buffer }>
}

interface KafkajsResponse {
  decode: (buffer: Buffer) => Promise<any>
  parse: (decoded: any) => Promise<any>
}

/** The request body kafkajs sends for `api` (its directory name) at `version`. */
export async function kafkajsRequestBody (api: string, version: number,
  args: Record<string, unknown>): Promise<{ apiKey: number, body: Buffer }> {
  const build = require(`${REQUESTS}/${api}/v${version}/request.js`) as
    (args: Record<string, unknown>) => KafkajsRequest
  const request = build(args)
  return { apiKey: request.apiKey, body: (await request.encode()).buffer }
}

/** kafkajs's decoded view of a response body (before `parse`, which throws on error codes). */
export async function kafkajsDecodeResponse (api: string, version: number,
  body: Buffer): Promise<any> {
  const response = require(`${REQUESTS}/${api}/v${version}/response.js`) as KafkajsResponse
  return await response.decode(body)
}

/** kafkajs's parsed view, as its client code sees it (parse throws on a non-zero error). */
export async function kafkajsParseResponse (api: string, version: number,
  body: Buffer): Promise<any> {
  const response = require(`${REQUESTS}/${api}/v${version}/response.js`) as KafkajsResponse
  return await response.parse(await response.decode(body))
}

/** A RecordBatch v2 (magic 2) encoded by kafkajs, as it appears inside Produce/Fetch. */
export async function kafkajsRecordBatch (records: { key: string, value: string }[],
  firstOffset = 0): Promise<Buffer> {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as
    { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> }
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as
    (options: Record<string, unknown>) => unknown
  const Long = require('kafkajs/src/utils/long.js') as { fromInt: (n: number) => unknown }
  const now = 1_700_000_000_000
  const batch = await RecordBatch({
    firstOffset: Long.fromInt(firstOffset),
    firstTimestamp: now,
    maxTimestamp: now,
    lastOffsetDelta: records.length - 1,
    records: records.map((record, offsetDelta) =>
      Record({ offsetDelta, key: Buffer.from(record.key), value: Buffer.from(record.value) })),
  })
  return batch.buffer
}
