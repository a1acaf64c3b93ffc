/**
 * Fuzzing every decoder of the registry at every version of its codec, both directions:
 * random byte strings, and valid encodings of random messages that are then truncated or
 * mutated (bytes flipped, set to length-like extremes, inserted or deleted), also with hostile
 * strings (raw invalid UTF-8, runs of 0xFF at the limits) and sizes or counts forged at every
 * offset; and the request header decoder likewise. The only error a
 * decoder may raise is ProtocolDecodeError: a RangeError or TypeError would escape the network
 * layer's handling and is a bug. Every proper prefix of a valid encoding must be rejected.
 *
 * Seeded: FUZZ_SEED=<n> replays a run; the seed is printed and is part of each test's name.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { ProtocolDecodeError, Reader } from '../../src/protocol/reader.js'
import { API_DEFINITIONS } from '../../src/protocol/registry.js'
import { isFlexible } from '../../src/protocol/api.js'
import {
  decodeRequestHeaderPrefix, decodeRequestHeaderTail, encodeRequestHeader,
} from '../../src/protocol/headers.js'
import {
  encode, encodeHostile, fieldsOf, HOSTILE_STRINGS, HostileWriter, messageArbitrary,
  versionsOf, type Direction,
} from './support/messages.js'
import { MUTATION, mutate } from './support/mutations.js'

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
/** Runs per API, shared across its versions, directions and the three kinds of input. */
const RUNS_PER_API = 2100
const DIRECTIONS: Direction[] = ['request', 'response']

console.log(`protocol fuzz: FUZZ_SEED=${SEED}`)

/** Decodes and reports anything but a clean result or a ProtocolDecodeError. */
function decodeQuietly (api: ApiDefinition<unknown, unknown>, direction: Direction,
  version: number, bytes: Buffer): 'ok' | 'rejected' {
  const reader = new Reader(bytes)
  try {
    if (direction === 'request') api.decodeRequest(reader, version)
    else api.decodeResponse(reader, version)
    return 'ok'
  } catch (error) {
    if (error instanceof ProtocolDecodeError) return 'rejected'
    throw new Error(`${api.name} v${version} ${direction} threw ${String(error)} on ` +
      bytes.toString('hex'), { cause: error })
  }
}

describe(`protocol decoders under fuzzing (FUZZ_SEED=${SEED})`, () => {
  for (const api of API_DEFINITIONS) {
    const cases = versionsOf(api).flatMap(version =>
      DIRECTIONS.map(direction => ({ version, direction })))
    const runs = Math.max(10, Math.floor(RUNS_PER_API / 3 / cases.length))

    it(`${api.name} decoders reject random bytes only with ProtocolDecodeError`, () => {
      for (const { version, direction } of cases) {
        fc.assert(fc.property(fc.uint8Array({ maxLength: 160 }), bytes => {
          decodeQuietly(api, direction, version, Buffer.from(bytes))
        }), { seed: SEED, numRuns: runs })
      }
    })

    it(`${api.name} decoders reject every proper prefix of a valid encoding`, () => {
      for (const { version, direction } of cases) {
        const fields = fieldsOf(api, direction)
        fc.assert(fc.property(messageArbitrary(fields, version), fc.nat(), (message, cut) => {
          const bytes = encode(api, direction, version, message)
          assert.equal(decodeQuietly(api, direction, version, bytes), 'ok')
          if (bytes.length === 0) return
          const prefix = bytes.subarray(0, cut % bytes.length)
          assert.equal(decodeQuietly(api, direction, version, prefix), 'rejected',
            `${api.name} v${version} ${direction}: a ${prefix.length}-byte prefix of ` +
            `${bytes.length} decoded`)
        }), { seed: SEED, numRuns: runs })
      }
    })

    it(`${api.name} decoders survive mutated valid encodings`, () => {
      for (const { version, direction } of cases) {
        const fields = fieldsOf(api, direction)
        fc.assert(fc.property(messageArbitrary(fields, version),
          fc.array(MUTATION, { minLength: 1, maxLength: 4 }), (message, mutations) => {
            const bytes = encode(api, direction, version, message)
            decodeQuietly(api, direction, version, mutate(bytes, mutations))
          }), { seed: SEED, numRuns: runs })
      }
    })
  }

  for (const api of API_DEFINITIONS) {
    const cases = versionsOf(api).flatMap(version =>
      DIRECTIONS.map(direction => ({ version, direction })))
    const runs = Math.max(10, Math.floor(RUNS_PER_API / 3 / cases.length))

    it(`${api.name} decoders survive hostile strings and forged sizes`, () => {
      for (const { version, direction } of cases) {
        const fields = fieldsOf(api, direction)
        fc.assert(fc.property(messageArbitrary(fields, version, 0, HOSTILE_STRINGS),
          fc.array(MUTATION, { maxLength: 3 }), (message, mutations) => {
            const bytes = encodeHostile(api, direction, version, message)
            decodeQuietly(api, direction, version, mutate(bytes, mutations))
          }), { seed: SEED, numRuns: runs })
      }
    })

    it(`${api.name} decoders survive an extreme size or count written at every offset`, () => {
      const extremes = [
        (bytes: Buffer, at: number) => bytes.writeInt32BE(0x7fffffff, at),
        (bytes: Buffer, at: number) => bytes.writeInt32BE(-2, at),
        (bytes: Buffer, at: number) => bytes.writeInt16BE(0x7fff, at),
        (bytes: Buffer, at: number) => bytes.fill(0xff, at, at + 4),
      ]
      for (const { version, direction } of cases) {
        const message = fc.sample(messageArbitrary(fieldsOf(api, direction), version),
          { seed: SEED, numRuns: 1 })[0]
        const valid = encode(api, direction, version, message)
        for (let at = 0; at + 4 <= valid.length; at++) {
          for (const write of extremes) {
            const bytes = Buffer.from(valid)
            write(bytes, at)
            decodeQuietly(api, direction, version, bytes)
          }
        }
      }
    })
  }

  it('the request header decoder rejects random and mutated bytes only with ProtocolDecodeError',
    () => {
      const decodeHeader = (bytes: Buffer): void => {
        const reader = new Reader(bytes)
        try {
          const header = decodeRequestHeaderPrefix(reader)
          const api = API_DEFINITIONS.find(candidate => candidate.key === header.apiKey)
          decodeRequestHeaderTail(reader, header,
            api !== undefined && isFlexible(api, header.apiVersion))
        } catch (error) {
          if (!(error instanceof ProtocolDecodeError)) throw error
        }
      }
      const headers = fc.record({
        apiKey: fc.constantFrom(...API_DEFINITIONS.map(api => api.key)),
        apiVersion: fc.integer({ min: -1, max: 20 }),
        correlationId: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        clientId: fc.option(HOSTILE_STRINGS, { nil: null }),
        flexible: fc.boolean(),
      })
      fc.assert(fc.property(headers, fc.array(MUTATION, { maxLength: 3 }),
        ({ flexible, ...header }, mutations) => {
          const writer = new HostileWriter()
          encodeRequestHeader(writer, header, flexible)
          decodeHeader(mutate(writer.toBuffer(), mutations))
        }), { seed: SEED, numRuns: 2000 })
      fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), bytes => {
        decodeHeader(Buffer.from(bytes))
      }), { seed: SEED, numRuns: 2000 })
    })

  it('the decoder of a flexible version bounds a forged compact array count by the frame', () => {
    // A compact array count of 2^35-ish: uvarint ff ff ff ff 7f, then nothing.
    const forged = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])
    for (const api of API_DEFINITIONS) {
      for (const version of versionsOf(api)) {
        if (version < api.flexibleFrom) continue
        for (const direction of DIRECTIONS) decodeQuietly(api, direction, version, forged)
      }
    }
  })
})
