/**
 * The HTTP value rules as pure functions: the timestamp units (the 10^11 boundary between
 * seconds and milliseconds) and the JSON type headers that let the native API give a JSON value
 * back as JSON.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { headersFor, withJsonParts } from '../../src/http/codec.js'
import { HttpError } from '../../src/http/errors.js'
import { timestampMs } from '../../src/http/timestamp.js'

describe('HTTP timestamps', () => {
  it('reads a number below 10^11 as seconds and anything else as milliseconds', () => {
    assert.equal(timestampMs(1640995200, 't'), 1640995200000)
    assert.equal(timestampMs(99_999_999_999, 't'), 99_999_999_999_000)
    assert.equal(timestampMs(100_000_000_000, 't'), 100_000_000_000)
    assert.equal(timestampMs(1640995200123.9, 't'), 1640995200123)
    assert.equal(timestampMs(0, 't'), 0)
  })

  it('reads ISO-8601 with a zone, and refuses what cannot be stored, naming the field', () => {
    assert.equal(timestampMs('2022-01-01T00:00:00Z', 't'), 1640995200000)
    assert.equal(timestampMs('2022-01-01T02:00:00.5+02:00', 't'), 1640995200500)
    assert.throws(() => timestampMs('1969-12-31T23:59:59Z', 'body.messages[0].timestamp'),
      (error: HttpError) => error.status === 422 &&
        /body\.messages\[0\]\.timestamp/.test(error.message))
  })
})

describe('HTTP JSON values', () => {
  it('marks JSON keys and values, not strings, bytes or nulls, and lets the client\'s header win',
    () => {
      const names = (key: unknown, value: unknown, given = {}): [string, string | undefined][] =>
        headersFor(key, value, given).map(h => [h.key, h.value?.toString()])
      assert.deepEqual(names({ id: 1 }, [1]), [['key-content-type', 'application/json'],
        ['content-type', 'application/json']])
      assert.deepEqual(names('k', 'v'), [])
      assert.deepEqual(names(null, { base64: 'AAE=' }), [])
      assert.deepEqual(names(null, 0), [['content-type', 'application/json']])
      assert.deepEqual(names(null, false, { 'content-type': 'text/plain' }),
        [['content-type', 'text/plain']])
    })

  it('parses a part back only under its header, and keeps text that is not JSON', () => {
    const record = { offset: 0, timestamp: 0, key: '{"id":1}', value: '{"a":1}',
      headers: { 'content-type': 'application/json' } }
    assert.deepEqual(withJsonParts(record).value, { a: 1 })
    assert.equal(withJsonParts(record).key, '{"id":1}', 'no key-content-type: the key is text')
    assert.equal(withJsonParts({ ...record, value: 'not json' }).value, 'not json')
    assert.deepEqual(withJsonParts({ ...record, value: { base64: '/w==' } }).value,
      { base64: '/w==' })
    assert.equal(withJsonParts({ ...record, headers: {} }).value, '{"a":1}')
  })
})
