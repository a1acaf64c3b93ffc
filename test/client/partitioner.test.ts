import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { it } from 'node:test'
import { murmur2, partitionForKey } from '../../src/client/partitioner.js'

const require = createRequire(import.meta.url)
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js')

it('computes the same murmur2 as kafkajs (and so the Java client) for keys of every length', () => {
  for (let length = 0; length < 40; length++) {
    const key = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + length) % 256))
    assert.equal(murmur2(key), kafkajsMurmur2(key), `key of ${length} bytes`)
  }
  assert.equal(partitionForKey(Buffer.from('user:123'), 12),
    (kafkajsMurmur2(Buffer.from('user:123')) & 0x7fffffff) % 12)
})
