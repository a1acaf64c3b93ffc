import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeleteRecords } from '../../../src/protocol/apis/delete-records.js'
import { createRequire } from 'node:module'
import { kafkajsRequestBody } from '../support/kafkajs.js'
import {
  assertPrefixesRejected, assertRoundTrip, checkRandomRoundTrips, decode, encode, PROTOCOL_SEED,
  versionsOf,
} from '../support/messages.js'

const require = createRequire(import.meta.url)

/** kafkajs's DeleteRecords response module is a factory of the requested topics. */
async function kafkajsDecode (version: number, body: Buffer): Promise<any> {
  const factory = require(`kafkajs/src/protocol/requests/deleteRecords/v${version}/response.js`)
  return await factory({ topics: [] }).decode(body)
}

const REQUEST = { topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 2 ** 35 },
  { partitionIndex: 1, offset: -1 }] }], timeoutMs: 500 }
const RESPONSE = { throttleTimeMs: 0, topics: [{ name: 't', partitions: [
  { partitionIndex: 0, lowWatermark: 2 ** 35, errorCode: 0 },
  { partitionIndex: 1, lowWatermark: -1, errorCode: 1 }] }] }

describe('DeleteRecords codec (versions 0-2)', () => {
  it('round-trips requests and responses at every version and rejects truncations', () => {
    for (const version of versionsOf(DeleteRecords)) {
      assertRoundTrip(DeleteRecords, 'request', version, REQUEST)
      assertRoundTrip(DeleteRecords, 'request', version, { topics: [], timeoutMs: 0 })
      assertRoundTrip(DeleteRecords, 'response', version, RESPONSE)
      assertPrefixesRejected(DeleteRecords, 'response', version,
        encode(DeleteRecords, 'response', version, RESPONSE))
    }
  })

  it(`round-trips random messages at every version (PROTOCOL_SEED=${PROTOCOL_SEED})`, () => {
    checkRandomRoundTrips(DeleteRecords)
  })

  it('decodes kafkajs v0-v1 requests and encodes responses kafkajs decodes', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequestBody('deleteRecords', version, {
        topics: [{ topic: 't', partitions: [{ partition: 0, offset: String(2 ** 35) },
          { partition: 1, offset: '-1' }] }], timeout: 500 })
      assert.equal(apiKey, DeleteRecords.key)
      assert.deepEqual(decode(DeleteRecords, 'request', version, body), REQUEST)
      const parsed = await kafkajsDecode(version,
        encode(DeleteRecords, 'response', version, RESPONSE))
      assert.equal(parsed.topics[0].partitions[0].lowWatermark.toString(), String(2 ** 35))
    }
  })
})
