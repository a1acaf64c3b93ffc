/**
 * Every served API at every version: requests and responses round-trip through our codecs,
 * decoders reject truncated input with ProtocolDecodeError, and a bounded fast-check fuzz
 * shows that random or mutated bytes never raise anything else. Plus byte fixtures from
 * kafkajs's own encoders (Produce v7, Fetch v11, Metadata v6).
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { ALL_HANDLERS } from '../../src/broker/handlers/index.js'
import { FrameDecoder, FrameTooLargeError } from '../../src/protocol/frame-decoder.js'
import { ProtocolDecodeError, Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'

const require = createRequire(import.meta.url)
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 100000)

function roundTrip<T> (encode: (w: Writer) => void, decode: (r: Reader) => T): T {
  const writer = new Writer(16)
  encode(writer)
  const reader = new Reader(writer.toBuffer())
  const value = decode(reader)
  assert.equal(reader.remaining, 0, 'decoder consumed everything')
  return value
}

/** A decoded message, re-encoded, must give the same bytes (codec symmetry). */
function assertStable (api: ApiDefinition<unknown, unknown>, version: number,
  direction: 'request' | 'response', bytes: Buffer): void {
  const decode = direction === 'request' ? api.decodeRequest : api.decodeResponse
  const encode = direction === 'request' ? api.encodeRequest : api.encodeResponse
  const value = decode.call(api, new Reader(bytes), version)
  const again = new Writer()
  encode.call(api, again, version, value)
  assert.ok(again.toBuffer().equals(bytes), `${api.name} v${version} ${direction} is stable`)
}

describe('API codecs', () => {
  for (const entry of ALL_HANDLERS) {
    const api = entry.api as ApiDefinition<unknown, unknown>
    it(`${api.name}: empty messages round-trip and truncation is a decode error, ` +
      `v${entry.minVersion}-${entry.maxVersion}`, () => {
      for (let version = entry.minVersion; version <= entry.maxVersion; version++) {
        for (const direction of ['request', 'response'] as const) {
          const writer = new Writer()
          const encode = direction === 'request' ? api.encodeRequest : api.encodeResponse
          encode.call(api, writer, version, {})
          const bytes = writer.toBuffer()
          assertStable(api, version, direction, bytes)
          const decode = direction === 'request' ? api.decodeRequest : api.decodeResponse
          if (bytes.length > 0) {
            assert.throws(() => decode.call(api, new Reader(bytes.subarray(0, bytes.length - 1)),
              version), ProtocolDecodeError)
          }
        }
      }
    })
  }

  it('ApiVersions v3 uses compact arrays and v0 has no throttle time', () => {
    const response = { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 7 }],
      throttleTimeMs: 0 }
    const v0 = roundTrip(w => ApiVersions.encodeResponse(w, 0, response),
      r => ApiVersions.decodeResponse(r, 0))
    assert.deepEqual(v0, response)
    const writer = new Writer()
    ApiVersions.encodeResponse(writer, 3, response)
    assert.equal(writer.toBuffer().toString('hex'), '000002000000030007000000000000')
  })

  it('decodes a Produce v7 request encoded by kafkajs', async () => {
    const produceV7 = require('kafkajs/src/protocol/requests/produce/v7/request.js')
    const batch = buildRecordBatchSync([{ key: 'k', value: 'v' }])
    void batch
    const request = produceV7({
      acks: -1, timeout: 1000, compression: 0,
      topicData: [{ topic: 'orders', partitions: [{ partition: 2, firstSequence: 0,
        messages: [{ key: 'k', value: 'v', timestamp: Date.now() }] }] }],
    })
    const body: Buffer = (await request.encode()).buffer
    const decoded = Produce.decodeRequest(new Reader(body), 7)
    assert.equal(decoded.acks, -1)
    assert.equal(decoded.timeoutMs, 1000)
    assert.equal(decoded.topicData[0]?.name, 'orders')
    assert.equal(decoded.topicData[0]?.partitionData[0]?.index, 2)
    assert.equal(decoded.topicData[0]?.partitionData[0]?.records?.readInt8(16), 2)
  })

  it('encodes a Fetch v11 response that kafkajs decodes, with empty records of size 0',
    async () => {
      const fetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/response.js')
      const batch = buildRecordBatchSync([{ key: 'k', value: 'hello' }])
      const writer = new Writer()
      Fetch.encodeResponse(writer, 11, {
        throttleTimeMs: 0, errorCode: 0, sessionId: 0,
        responses: [{ topic: 't', partitions: [
          { partitionIndex: 0, errorCode: 0, highWatermark: 1, lastStableOffset: 1,
            logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1,
            records: batch },
          { partitionIndex: 1, errorCode: 0, highWatermark: 0, lastStableOffset: 0,
            logStartOffset: 0, abortedTransactions: null, preferredReadReplica: -1,
            records: null },
        ] }],
      })
      const parsed = await fetchV11.parse(await fetchV11.decode(writer.toBuffer()))
      const partitions = parsed.responses[0].partitions
      assert.equal(partitions[0].messages[0].value.toString(), 'hello')
      assert.equal(partitions[0].preferredReadReplica, -1)
      assert.equal(partitions[1].messages.length, 0)
    })

  it('decodes a Metadata v6 request from kafkajs', async () => {
    const metadataV6 = require('kafkajs/src/protocol/requests/metadata/v6/request.js')
    const body: Buffer = (await metadataV6({ topics: ['a', 'b'],
      allowAutoTopicCreation: false }).encode()).buffer
    const decoded = Metadata.decodeRequest(new Reader(body), 6)
    assert.deepEqual(decoded.topics?.map(t => t.name), ['a', 'b'])
    assert.equal(decoded.allowAutoTopicCreation, false)
  })

  it(`never throws anything but ProtocolDecodeError on random input (FUZZ_SEED=${SEED})`, () => {
    const apis = ALL_HANDLERS.map(entry => entry)
    fc.assert(fc.property(fc.nat(apis.length - 1), fc.nat(20),
      fc.uint8Array({ maxLength: 200 }), (which, versionOffset, bytes) => {
        const entry = apis[which]
        if (entry === undefined) return
        const version = entry.minVersion + versionOffset % (entry.maxVersion - entry.minVersion + 1)
        for (const decode of [entry.api.decodeRequest, entry.api.decodeResponse]) {
          try {
            decode.call(entry.api, new Reader(Buffer.from(bytes)), version)
          } catch (error) {
            if (!(error instanceof ProtocolDecodeError)) {
              throw new Error(`${entry.api.name} v${version}: ${String(error)}`)
            }
          }
        }
      }), { seed: SEED, numRuns: 3000 })
  })
})

describe('FrameDecoder', () => {
  it('reassembles frames split at any byte and rejects oversized frames', () => {
    const frames = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(3000, 7)]
    const stream = Buffer.concat(frames.flatMap(frame => {
      const size = Buffer.alloc(4)
      size.writeInt32BE(frame.length)
      return [size, frame]
    }))
    for (const step of [1, 3, 7, 1000, stream.length]) {
      const decoder = new FrameDecoder(4096)
      const got: Buffer[] = []
      for (let at = 0; at < stream.length; at += step) {
        got.push(...decoder.push(stream.subarray(at, at + step)))
      }
      assert.deepEqual(got.map(frame => frame.toString('hex')),
        frames.map(frame => frame.toString('hex')))
    }
    const decoder = new FrameDecoder(100)
    assert.throws(() => decoder.push(Buffer.from([0, 0, 1, 0])), FrameTooLargeError)
    assert.throws(() => new FrameDecoder(100).push(Buffer.from([0xff, 0xff, 0xff, 0xff])),
      FrameTooLargeError)
  })
})
