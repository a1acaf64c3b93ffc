/**
 * Regression tests for the decode-time bounds of src/protocol/decode-limits.ts: whatever a
 * request decoder accepts can be echoed by a response encoder, and one frame cannot expand
 * into an unbounded number of objects. Each test failed on the codec before the bounds.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { AlterConfigs } from '../../src/protocol/apis/alter-configs.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { JoinGroup, type JoinGroupResponse } from '../../src/protocol/apis/join-group.js'
import { ListGroups } from '../../src/protocol/apis/list-groups.js'
import { Metadata, type MetadataResponse } from '../../src/protocol/apis/metadata.js'
import {
  NAME_BYTES_MAX, REQUEST_ELEMENTS_MAX, STRING_BYTES_MAX,
} from '../../src/protocol/decode-limits.js'
import { decodeRequestHeaderPrefix } from '../../src/protocol/headers.js'
import { ProtocolDecodeError, Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** A classic (int16-length) string of raw bytes, valid UTF-8 or not. */
function rawString (bytes: Buffer): Buffer {
  const length = Buffer.alloc(2)
  length.writeInt16BE(bytes.length)
  return Buffer.concat([length, bytes])
}

/** A Metadata v1 request body naming one topic of these raw bytes. */
function metadataV1Naming (name: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0, 1]), rawString(name)])
}

function decodeMetadataV1 (body: Buffer): ReturnType<typeof Metadata.decodeRequest> {
  return Metadata.decodeRequest(new Reader(body), 1)
}

function metadataResponseEchoing (name: string): MetadataResponse {
  return {
    throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: 1,
    topics: [{ errorCode: 17, name, topicId: Buffer.alloc(16), isInternal: false, partitions: [],
      topicAuthorizedOperations: -2147483648 }],
    clusterAuthorizedOperations: -2147483648,
  }
}

function encodeMetadataV1Response (response: MetadataResponse): Buffer {
  const writer = new Writer()
  Metadata.encodeResponse(writer, 1, response)
  return writer.toBuffer()
}

describe('decode-time string bounds: every decoded string can be echoed', () => {
  it('rejects the reproduced crash: Metadata v1 naming an 11,000-byte topic of 0xFF', () => {
    // Each 0xFF becomes U+FFFD (3 bytes): 33,000 bytes that no response could carry.
    const body = metadataV1Naming(Buffer.alloc(11_000, 0xff))
    assert.throws(() => decodeMetadataV1(body), (error: Error) =>
      error instanceof ProtocolDecodeError && /decodes to 33000 bytes/.test(error.message) &&
      /name/.test(error.message))
  })

  it('accepts invalid UTF-8 that still fits once decoded, and its echo encodes', () => {
    const body = metadataV1Naming(Buffer.alloc(Math.floor(NAME_BYTES_MAX / 3), 0xff))
    const name = decodeMetadataV1(body).topics?.[0]?.name
    assert.equal(Buffer.byteLength(name ?? ''), 3 * Math.floor(NAME_BYTES_MAX / 3))
    const bytes = encodeMetadataV1Response(metadataResponseEchoing(name ?? ''))
    const echoed = Metadata.decodeResponse(new Reader(bytes), 1)
    assert.equal(echoed.topics[0]?.name, name)
  })

  it('rejects a compact string over its limit before reading it', () => {
    // Metadata v9 (flexible) request: topics count 1+1, name compact length 40000+1, no body.
    const request = new Writer().uvarint(2).uvarint(40_001)
    assert.throws(() => Metadata.decodeRequest(new Reader(request.toBuffer()), 9),
      /name of 40000 bytes exceeds the limit of 16384/)
    // A response (read by our client) has Kafka's limit: throttle, 1 broker, node id, host.
    const response = new Writer().int32(0).uvarint(2).int32(1).uvarint(40_001)
      .raw(Buffer.alloc(16))
    assert.throws(() => Metadata.decodeResponse(new Reader(response.toBuffer()), 9),
      /host of 40000 bytes exceeds the limit of 32767/)
  })

  it('bounds names in requests, and keeps the full string limit where a field says so', () => {
    // A topic name past the name bound is malformed (one up to it gets INVALID_TOPIC_EXCEPTION
    // from the handler); a config value keeps Kafka's limit.
    assert.throws(() => decodeMetadataV1(metadataV1Naming(Buffer.alloc(NAME_BYTES_MAX + 1, 0x61))),
      /name of 16385 bytes exceeds the limit of 16384/)
    assert.equal(decodeMetadataV1(metadataV1Naming(Buffer.alloc(NAME_BYTES_MAX, 0x61)))
      .topics?.[0]?.name?.length, NAME_BYTES_MAX)
    const writer = new Writer()
    AlterConfigs.encodeRequest(writer, 0, { validateOnly: false, resources: [{
      resourceType: 2, resourceName: 't',
      configs: [{ name: 'x', value: 'v'.repeat(STRING_BYTES_MAX) }] }] })
    const decoded = AlterConfigs.decodeRequest(new Reader(writer.toBuffer()), 0)
    assert.equal(decoded.resources[0]?.configs[0]?.value?.length, STRING_BYTES_MAX)
  })

  it('rejects a group id over the name limit in JoinGroup', () => {
    const groupId = 'g'.repeat(NAME_BYTES_MAX + 1)
    const writer = new Writer()
    JoinGroup.encodeRequest(writer, 5, {
      groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '',
      groupInstanceId: null, protocolType: 'consumer', protocols: [],
    })
    assert.throws(() => JoinGroup.decodeRequest(new Reader(writer.toBuffer()), 5),
      /groupId of 16385 bytes exceeds the limit of 16384/)
  })

  it('bounds the client id so that a member id built from it (KIP-394) is encodable', () => {
    const header = (clientId: Buffer): Buffer =>
      Buffer.concat([Buffer.from([0, 11, 0, 5, 0, 0, 0, 7]), rawString(clientId)])
    assert.throws(() => decodeRequestHeaderPrefix(new Reader(header(
      Buffer.alloc(NAME_BYTES_MAX + 1, 0x61)))), /client id of 16385 bytes/)
    // Invalid UTF-8 that would triple past the bound is refused too.
    assert.throws(() => decodeRequestHeaderPrefix(new Reader(header(
      Buffer.alloc(6000, 0xff)))), /client id of 6000 bytes decodes to 18000 bytes/)

    const clientId = decodeRequestHeaderPrefix(new Reader(header(
      Buffer.alloc(NAME_BYTES_MAX, 0x61)))).clientId
    const memberId = `${clientId ?? ''}-${randomUUID()}`
    const response: JoinGroupResponse = {
      throttleTimeMs: 0, errorCode: 79, generationId: -1, protocolName: '', leader: '',
      memberId, members: [],
    }
    const writer = new Writer()
    JoinGroup.encodeResponse(writer, 5, response)
    assert.equal(JoinGroup.decodeResponse(new Reader(writer.toBuffer()), 5).memberId, memberId)
    // ... and the client's next JoinGroup, carrying that member id, decodes.
    const rejoin = new Writer()
    JoinGroup.encodeRequest(rejoin, 5, {
      groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId,
      groupInstanceId: null, protocolType: 'consumer', protocols: [],
    })
    assert.equal(JoinGroup.decodeRequest(new Reader(rejoin.toBuffer()), 5).memberId, memberId)
  })

  it('the writer names the limit for a string too long, classic or compact', () => {
    const long = 'x'.repeat(STRING_BYTES_MAX + 1)
    assert.throws(() => new Writer().nullableString(long), /32768 bytes of UTF-8 exceeds the 32767/)
    assert.throws(() => new Writer().compactNullableString(long), /exceeds the 32767/)
    // A group id that long (say stored over HTTP) fails the response, not the process.
    assert.throws(() => ListGroups.encodeResponse(new Writer(), 3, {
      throttleTimeMs: 0, errorCode: 0,
      groups: [{ groupId: long, protocolType: '', groupState: '', groupType: '' }],
    }), RangeError)
  })
})

describe('decode-time element bounds: one frame cannot expand without limit', () => {
  it('caps the array elements of one request at REQUEST_ELEMENTS_MAX', () => {
    // Metadata v1 with REQUEST_ELEMENTS_MAX + 1 empty topic names: a 400 KB frame.
    const count = REQUEST_ELEMENTS_MAX + 1
    const body = Buffer.alloc(4 + count * 2)
    body.writeInt32BE(count, 0)
    assert.throws(() => decodeMetadataV1(body), (error: Error) =>
      error instanceof ProtocolDecodeError && /array of 200001 elements/.test(error.message))
    // Exactly the limit decodes.
    const atLimit = Buffer.alloc(4 + REQUEST_ELEMENTS_MAX * 2)
    atLimit.writeInt32BE(REQUEST_ELEMENTS_MAX, 0)
    assert.equal(decodeMetadataV1(atLimit).topics?.length, REQUEST_ELEMENTS_MAX)
  })

  it('bounds a struct array count by the struct\'s wire size, not one byte per element', () => {
    // Fetch v4 partitions take at least 16 bytes each (int32, int64, int32): a count of
    // 10,000 with 10,000 bytes left is refused before anything is allocated.
    const writer = new Writer()
    writer.int32(-1).int32(0).int32(0).int32(0).int8(0) // replica, wait, min, max, isolation
    writer.int32(1).nullableString('t').int32(10_000)
    const body = Buffer.concat([writer.toBuffer(), Buffer.alloc(10_000)])
    assert.throws(() => Fetch.decodeRequest(new Reader(body), 4),
      /array length 10000 exceeds the 10000 bytes left/)
  })

  it('shares one frozen empty array for array fields a version does not carry', () => {
    const writer = new Writer()
    Fetch.encodeRequest(writer, 4, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1, isolationLevel: 0, sessionId: 0,
      sessionEpoch: -1, topics: [], forgottenTopicsData: [], rackId: '',
    })
    const decoded = Fetch.decodeRequest(new Reader(writer.toBuffer()), 4)
    assert.deepEqual(decoded.forgottenTopicsData, [])
    assert.ok(Object.isFrozen(decoded.forgottenTopicsData))
  })

  it('steps over tagged fields nobody reads, checking their order and sizes', () => {
    // ApiVersions v3: two compact strings, then 100,000 empty tagged fields (no Map is built).
    const writer = new Writer().compactNullableString('a').compactNullableString('b')
    writer.uvarint(100_000)
    for (let tag = 0; tag < 100_000; tag++) writer.uvarint(tag).uvarint(0)
    const request = ApiVersions.decodeRequest(new Reader(writer.toBuffer()), 3)
    assert.deepEqual(request, { clientSoftwareName: 'a', clientSoftwareVersion: 'b' })

    const outOfOrder = new Writer().compactNullableString('a').compactNullableString('b')
      .uvarint(2).uvarint(5).uvarint(0).uvarint(5).uvarint(0)
    assert.throws(() => ApiVersions.decodeRequest(new Reader(outOfOrder.toBuffer()), 3),
      /tagged fields out of order/)
    const oversized = new Writer().compactNullableString('a').compactNullableString('b')
      .uvarint(1).uvarint(0).uvarint(1000)
    assert.throws(() => ApiVersions.decodeRequest(new Reader(oversized.toBuffer()), 3),
      ProtocolDecodeError)
  })
})
