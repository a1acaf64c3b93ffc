/**
 * The fuzzer's generator on its own (no broker): a seed gives the same frames every time, the
 * requests it calls valid decode whole with the project's own decoders, every API and version
 * it is given gets drawn, and excluded mutations never appear.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeRequestHeaderPrefix, decodeRequestHeaderTail } from '../../src/protocol/headers.js'
import { Reader } from '../../src/protocol/reader.js'
import { API_DEFINITIONS } from '../../src/protocol/registry.js'
import { Prng } from './prng.js'
import { RecordSetFactory } from './record-batches.js'
import {
  MUTATIONS, RequestGenerator, type AdvertisedApi, type FuzzRequest, type Mutation,
} from './request-generator.js'

const TIMESTAMP = Date.UTC(2026, 0, 1)
const ALL_APIS: AdvertisedApi[] = API_DEFINITIONS.map(api =>
  ({ api, minVersion: api.minVersion, maxVersion: api.maxVersion }))
/** Bombs take a moment to build; the generator's own logic is what is tested here. */
const CHEAP = new Set<Mutation>(MUTATIONS.filter(mutation => mutation !== 'record-bomb'))

async function generate (seed: number, count: number,
  enabled: ReadonlySet<Mutation> = CHEAP): Promise<FuzzRequest[]> {
  const generator = new RequestGenerator(ALL_APIS, new RecordSetFactory(TIMESTAMP), enabled)
  const prng = new Prng(seed)
  const requests: FuzzRequest[] = []
  for (let i = 0; i < count; i++) requests.push(await generator.next(prng))
  return requests
}

describe('fuzz request generator', () => {
  it('replays the same frames from the same seed', async () => {
    const first = await generate(42, 300)
    const second = await generate(42, 300)
    assert.deepEqual(second.map(r => r.frame.toString('hex')), first.map(r => r.frame.toString('hex')))
    assert.deepEqual(second.map(r => r.description), first.map(r => r.description))
    const other = await generate(43, 300)
    assert.notDeepEqual(other.map(r => r.description), first.map(r => r.description))
  })

  it('writes valid requests that the broker\'s decoders read whole', async () => {
    const requests = (await generate(7, 800)).filter(request => request.valid)
    assert.ok(requests.length > 150, `only ${requests.length} valid requests`)
    for (const request of requests) {
      const api = API_DEFINITIONS.find(entry => entry.key === request.apiKey)
      assert.ok(api !== undefined)
      const reader = new Reader(request.frame, 4)
      assert.equal(request.frame.readInt32BE(0), request.frame.length - 4)
      const header = decodeRequestHeaderPrefix(reader)
      assert.equal(header.correlationId, request.correlationId)
      decodeRequestHeaderTail(reader, header, request.version >= api.flexibleFrom)
      api.decodeRequest(reader, request.version)
      assert.equal(reader.remaining, 0, `${request.description} left bytes unread`)
    }
  })

  it('draws every API at every version it is given', async () => {
    const seen = new Set((await generate(3, 3000, new Set())).map(r => `${r.apiKey}/${r.version}`))
    for (const { api, minVersion, maxVersion } of ALL_APIS) {
      for (let version = minVersion; version <= maxVersion; version++) {
        assert.ok(seen.has(`${api.key}/${version}`), `${api.name} v${version} never drawn`)
      }
    }
  })

  it('leaves out excluded mutations', async () => {
    const enabled = new Set<Mutation>(['boundary-number'])
    const requests = await generate(11, 500, enabled)
    const mutated = requests.filter(request => !request.valid)
    assert.ok(mutated.length > 50)
    for (const request of mutated) {
      assert.doesNotMatch(request.description, /bytes written|invalid UTF-8|elements|frame:/,
        request.description)
    }
  })
})
