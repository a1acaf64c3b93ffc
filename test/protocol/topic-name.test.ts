import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TOPIC_NAME_LENGTH_MAX, validateTopicName } from '../../src/protocol/topic-name.js'
import * as controller from '../../src/controller/controller.js'

describe('validateTopicName (Kafka\'s Topic.validate)', () => {
  it('accepts legal names up to 249 characters and refuses the rest', () => {
    for (const name of ['orders', 'a.b_c-D9', 'x'.repeat(TOPIC_NAME_LENGTH_MAX), '...']) {
      assert.equal(validateTopicName(name), undefined, name)
    }
    for (const name of ['', '.', '..', 'x'.repeat(250), 'bad name', 'ünï', 'a/b', '\ufffd']) {
      assert.equal(typeof validateTopicName(name), 'string', name)
    }
  })

  it('quotes only the start of an illegal name, so its message can be sent back', () => {
    // A 249-character name of illegal characters passes the length check; a CreateTopics
    // error message quoting all of it (U+FFFD is 3 bytes) would be 750+ bytes, and one of
    // 10,000 such characters (the length check comes first) must not be quoted at all.
    const message = validateTopicName('\ufffd'.repeat(TOPIC_NAME_LENGTH_MAX)) ?? ''
    assert.ok(Buffer.byteLength(message) < 400, message)
    assert.match(message, /\.\.\. has characters other than/)
    assert.ok((validateTopicName('\ufffd'.repeat(10_000)) ?? '').length < 100)
  })

  it('is the one definition: the controller re-exports it', () => {
    assert.equal(controller.validateTopicName, validateTopicName)
    assert.equal(controller.TOPIC_NAME_LENGTH_MAX, TOPIC_NAME_LENGTH_MAX)
  })
})
