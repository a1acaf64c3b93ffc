/**
 * Error responses (ApiDefinition.errorResponse, built from each API's schema and error echo)
 * and the decode ⇒ encode property: for every API at every version of its codec (which covers
 * every advertised version), every request the decoder accepts, however hostile its strings
 * (raw invalid UTF-8, lengths at the limits) or mutated its bytes, yields an error response the
 * encoder can write, and every message the decoder accepts can be encoded again.
 *
 * Seeded: PROTOCOL_SEED=<n> replays a run.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { JoinGroup } from '../../src/protocol/apis/join-group.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { OffsetFetch } from '../../src/protocol/apis/offset-fetch.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { ProtocolDecodeError, Reader } from '../../src/protocol/reader.js'
import { API_DEFINITIONS } from '../../src/protocol/registry.js'
import type { Field } from '../../src/protocol/schema.js'
import {
  decode, encode, encodeHostile, fieldsOf, HOSTILE_STRINGS, messageArbitrary, PROTOCOL_SEED,
  versionsOf, type Direction,
} from './support/messages.js'
import { MUTATION, mutate } from './support/mutations.js'

type AnyApi = ApiDefinition<any, any>

const RUNS_PER_VERSION = 50
const ERROR_CODES = fc.constantFrom(-1, 3, 15, 17, 35, 87)

/** The decoded message, or undefined when the decoder refused the bytes as malformed. */
function decodeOrRefuse (api: AnyApi, direction: Direction, version: number,
  bytes: Buffer): unknown {
  const reader = new Reader(bytes)
  try {
    return direction === 'request'
      ? api.decodeRequest(reader, version)
      : api.decodeResponse(reader, version)
  } catch (error) {
    if (error instanceof ProtocolDecodeError) return undefined
    throw error
  }
}

/** Every errorCode (or partitionErrorCode) the version carries, anywhere in a message. */
function errorCodesIn (fields: Field[], message: any, version: number,
  found: number[] = []): number[] {
  for (const field of fields) {
    const [first, last] = field.versions
    if (version < first || (last !== undefined && version > last)) continue
    const value = message[field.name]
    if (field.name === 'errorCode' || field.name === 'partitionErrorCode') {
      found.push(value as number)
    } else if (Array.isArray(field.type) && Array.isArray(value)) {
      for (const item of value) errorCodesIn(field.type, item, version, found)
    }
  }
  return found
}

/** The error response encodes, decodes to the same bytes again, and carries only `code`. */
function errorResponseOf (api: AnyApi, version: number, request: unknown,
  code: number): any {
  assert.ok(api.errorResponse !== undefined, `${api.name} has no errorResponse`)
  const response = api.errorResponse(request, version, code)
  const bytes = encode(api, 'response', version, response)
  const decoded = decode(api, 'response', version, bytes)
  assert.ok(encode(api, 'response', version, decoded).equals(bytes),
    `${api.name} v${version} error response re-encodes to the same bytes`)
  for (const found of errorCodesIn(fieldsOf(api, 'response'), decoded, version)) {
    assert.equal(found, code, `${api.name} v${version}: an error field holds ${found}`)
  }
  return decoded
}

describe(`error responses and decode ⇒ encode (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
  for (const api of API_DEFINITIONS as AnyApi[]) {
    it(`${api.name}: every request the decoder accepts has an encodable error response`, () => {
      for (const version of versionsOf(api)) {
        const requests = messageArbitrary(fieldsOf(api, 'request'), version, 0, HOSTILE_STRINGS)
        fc.assert(fc.property(requests, fc.array(MUTATION, { maxLength: 2 }), ERROR_CODES,
          (message, mutations, code) => {
            const bytes = mutate(encodeHostile(api, 'request', version, message), mutations)
            const request = decodeOrRefuse(api, 'request', version, bytes)
            if (request !== undefined) errorResponseOf(api, version, request, code)
          }), { seed: PROTOCOL_SEED, numRuns: RUNS_PER_VERSION })
      }
    })

    it(`${api.name}: every message the decoder accepts can be encoded again`, () => {
      for (const version of versionsOf(api)) {
        for (const direction of ['request', 'response'] as const) {
          const messages = messageArbitrary(fieldsOf(api, direction), version, 0, HOSTILE_STRINGS)
          fc.assert(fc.property(messages, fc.array(MUTATION, { maxLength: 2 }),
            (message, mutations) => {
              const bytes = mutate(encodeHostile(api, direction, version, message), mutations)
              const decoded = decodeOrRefuse(api, direction, version, bytes)
              if (decoded !== undefined) encode(api, direction, version, decoded)
            }), { seed: PROTOCOL_SEED, numRuns: RUNS_PER_VERSION })
        }
      }
    })
  }
})

describe('error responses follow Kafka\'s getErrorResponse', () => {
  it('Produce: the error for every partition of every topic', () => {
    const response = errorResponseOf(Produce, 7, {
      transactionalId: null, acks: -1, timeoutMs: 100,
      topicData: [{ name: 'a', partitionData: [{ index: 0, records: null },
        { index: 4, records: null }] }, { name: 'b', partitionData: [] }],
    }, -1)
    assert.deepEqual(response.responses.map((topic: any) => [topic.name,
      topic.partitionResponses.map((p: any) => [p.index, p.errorCode, p.baseOffset])]),
    [['a', [[0, -1, -1], [4, -1, -1]]], ['b', []]])
  })

  it('Fetch: the error at the top and for every partition', () => {
    const request = Fetch.decodeRequest(new Reader(encode(Fetch, 'request', 11, {
      replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 1024, isolationLevel: 0,
      sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 't', topicId: Buffer.alloc(16), partitions: [{ partition: 2,
        currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1,
        partitionMaxBytes: 100 }] }],
      forgottenTopicsData: [], rackId: '',
    })), 11)
    const response = errorResponseOf(Fetch, 11, request, -1)
    assert.equal(response.errorCode, -1)
    assert.equal(response.responses[0].topic, 't')
    assert.deepEqual(response.responses[0].partitions.map((p: any) =>
      [p.partitionIndex, p.errorCode, p.records.length]), [[2, -1, 0]])
  })

  it('Metadata: the error for every topic named, even one of 16,383 bytes of U+FFFD', () => {
    // 5,461 bytes of 0xFF decode to 16,383 bytes: the longest name the reader lets through.
    const body = Buffer.concat([Buffer.from([0, 0, 0, 2, 0, 1, 0x61]), Buffer.from([0x15, 0x55]),
      Buffer.alloc(5461, 0xff)])
    const request = Metadata.decodeRequest(new Reader(body), 1)
    const response = errorResponseOf(Metadata, 1, request, -1)
    assert.deepEqual(response.topics.map((topic: any) => Buffer.byteLength(topic.name)),
      [1, 16_383])
    assert.deepEqual(response.brokers, [])
  })

  it('DeleteTopics: by name up to v5, by topics from v6', () => {
    const v5 = errorResponseOf(DeleteTopics, 5, DeleteTopics.decodeRequest(new Reader(
      encode(DeleteTopics, 'request', 5, { topics: [], topicNames: ['x', 'y'], timeoutMs: 1 })),
    5), 41)
    assert.deepEqual(v5.responses.map((r: any) => [r.name, r.errorCode]), [['x', 41], ['y', 41]])
    const v6 = errorResponseOf(DeleteTopics, 6, {
      topics: [{ name: null, topicId: Buffer.alloc(16, 1) }], topicNames: [], timeoutMs: 1,
    }, 41)
    assert.equal(v6.responses[0].name, null)
    assert.deepEqual(v6.responses[0].topicId, Buffer.alloc(16, 1))
  })

  it('FindCoordinator: the top-level error up to v3, one per key from v4', () => {
    const v3 = errorResponseOf(FindCoordinator, 3,
      { key: 'g', keyType: 0, coordinatorKeys: [] }, 15)
    assert.equal(v3.errorCode, 15)
    const v4 = errorResponseOf(FindCoordinator, 4,
      { key: '', keyType: 0, coordinatorKeys: ['g1', 'g2'] }, 15)
    assert.deepEqual(v4.coordinators.map((c: any) => [c.key, c.errorCode, c.nodeId]),
      [['g1', 15, 0], ['g2', 15, 0]])
  })

  it('OffsetFetch: per partition and at the top up to v7, per group from v8', () => {
    const v5 = errorResponseOf(OffsetFetch, 5, { groupId: 'g', requireStable: false,
      topics: [{ name: 't', partitionIndexes: [0, 1] }], groups: [] }, 16)
    assert.equal(v5.errorCode, 16)
    assert.deepEqual(v5.topics[0].partitions.map((p: any) => [p.partitionIndex,
      p.committedOffset]), [[0, -1], [1, -1]])
    const v8 = errorResponseOf(OffsetFetch, 8, { groupId: '', requireStable: false, topics: [],
      groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: null }] }, 16)
    assert.deepEqual(v8.groups.map((g: any) => [g.groupId, g.errorCode, g.topics]),
      [['g', 16, []]])
  })

  it('JoinGroup: the top-level error only', () => {
    const response = errorResponseOf(JoinGroup, 5, {
      groupId: 'g', sessionTimeoutMs: 1, rebalanceTimeoutMs: 1, memberId: 'm',
      groupInstanceId: null, protocolType: 'consumer', protocols: [],
    }, -1)
    assert.equal(response.errorCode, -1)
    assert.equal(response.memberId, '')
    assert.deepEqual(response.members, [])
  })
})
