import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ERROR, ERRORS, errorByCode, errorByName, errorCodeOf, errorNameOf, isDefiniteFailure,
  KafkaProtocolError,
} from '../../src/protocol/errors.js'

describe('Kafka error table', () => {
  it('has unique codes and unique names', () => {
    assert.equal(new Set(ERRORS.map(e => e.code)).size, ERRORS.length)
    assert.equal(new Set(ERRORS.map(e => e.name)).size, ERRORS.length)
  })

  it('covers every code of Kafka\'s Errors.java from -1 to 128 without gaps', () => {
    const codes = ERRORS.map(e => e.code).sort((a, b) => a - b)
    assert.deepEqual(codes, Array.from({ length: 130 }, (_, i) => i - 1))
  })

  it('matches Kafka on spot-checked codes, names and retriability', () => {
    const expected: [string, number, boolean][] = [
      ['UNKNOWN_SERVER_ERROR', -1, false], ['NONE', 0, false],
      ['UNKNOWN_TOPIC_OR_PARTITION', 3, true], ['NOT_LEADER_OR_FOLLOWER', 6, true],
      ['REQUEST_TIMED_OUT', 7, true], ['COORDINATOR_NOT_AVAILABLE', 15, true],
      ['UNSUPPORTED_VERSION', 35, false], ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false],
      ['INVALID_PRODUCER_EPOCH', 47, false], ['KAFKA_STORAGE_ERROR', 56, true],
      ['MEMBER_ID_REQUIRED', 79, false], ['INVALID_RECORD', 87, false],
      ['UNKNOWN_TOPIC_ID', 100, true], ['INVALID_REGULAR_EXPRESSION', 128, false],
    ]
    for (const [name, code, retriable] of expected) {
      assert.equal(errorByName(name)?.code, code, name)
      assert.equal(errorByCode(code)?.name, name, String(code))
      assert.equal(errorByCode(code)?.retriable, retriable, `${name} retriable`)
    }
    assert.equal(ERROR.UNKNOWN_TOPIC_OR_PARTITION, 3)
    assert.equal(ERROR.NOT_LEADER_OR_FOLLOWER, 6)
    assert.equal(ERROR.NONE, 0)
  })

  it('carries Kafka\'s default messages, and NONE alone has none', () => {
    assert.equal(errorByName('UNSUPPORTED_VERSION')?.message,
      'The version of API is not supported.')
    assert.equal(errorByName('NOT_LEADER_OR_FOLLOWER')?.message, 'For requests intended only ' +
      'for the leader, this error indicates that the broker is not the current leader. For ' +
      'requests intended for any replica, this error indicates that the broker is not a ' +
      'replica of the topic partition.')
    for (const entry of ERRORS) {
      assert.equal(entry.message === '', entry.name === 'NONE', entry.name)
      assert.match(entry.name, /^[A-Z][A-Z0-9_]*$/)
    }
  })

  it('maps unknown names to UNKNOWN_SERVER_ERROR and unknown codes to a readable name', () => {
    assert.equal(errorCodeOf('NO_SUCH_ERROR'), -1)
    assert.equal(errorCodeOf('INVALID_REQUEST'), 42)
    assert.equal(errorNameOf(9999), 'UNKNOWN_ERROR_9999')
    assert.equal(errorNameOf(36), 'TOPIC_ALREADY_EXISTS')
    assert.equal(errorByCode(9999), undefined)
  })

  it('tells definite failures from ones after which a write may have happened', () => {
    assert.equal(isDefiniteFailure(ERROR.NONE), false)
    assert.equal(isDefiniteFailure(ERROR.REQUEST_TIMED_OUT), false)
    assert.equal(isDefiniteFailure(ERROR.NETWORK_EXCEPTION), false)
    assert.equal(isDefiniteFailure(ERROR.NOT_ENOUGH_REPLICAS_AFTER_APPEND), false)
    assert.equal(isDefiniteFailure(ERROR.NOT_LEADER_OR_FOLLOWER), true)
    assert.equal(isDefiniteFailure(ERROR.OUT_OF_ORDER_SEQUENCE_NUMBER), true)
  })

  it('builds KafkaProtocolError from a name, with Kafka\'s message unless one is given', () => {
    const error = new KafkaProtocolError('INVALID_PARTITIONS')
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'KafkaProtocolError')
    assert.equal(error.errorName, 'INVALID_PARTITIONS')
    assert.equal(error.code, 37)
    assert.equal(error.retriable, false)
    assert.equal(error.message, 'Number of partitions is below 1.')
    const custom = new KafkaProtocolError('NOT_COORDINATOR', 'group moved')
    assert.equal(custom.message, 'group moved')
    assert.equal(custom.retriable, true)
    assert.equal(new KafkaProtocolError('MADE_UP').code, -1)
  })
})
