import assert from 'node:assert/strict'
import { it } from 'node:test'
import { newTopicId } from '../../src/controller/topic-id.js'

it('hands out 22-character base64url topic ids, never a reserved one nor one starting with -',
  () => {
    const drawn = [
      Buffer.alloc(16), // the zero id: "no topic id"
      Buffer.from('00000000000000000000000000000001', 'hex'), // METADATA_TOPIC_ID
      Buffer.from('f8' + '00'.repeat(15), 'hex'), // base64url '-A…'
      Buffer.from('0123456789abcdef0123456789abcdef', 'hex'),
    ]
    const id = newTopicId(() => drawn.shift() as Buffer)
    assert.equal(id, 'ASNFZ4mrze8BI0VniavN7w')
    assert.equal(drawn.length, 0)
    for (let i = 0; i < 200; i++) assert.match(newTopicId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
  })
