import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ByteRateThrottle, UNTHROTTLED } from '../../src/replication/byte-rate-throttle.js'

describe('ByteRateThrottle (replication throttled rates)', () => {
  it('lets a second\'s worth of bytes through, then refills at the rate', () => {
    const throttle = new ByteRateThrottle(() => 1000, 0)
    assert.equal(throttle.available(0), 1000)
    throttle.record(1500, 0) // one whole batch may overshoot
    assert.equal(throttle.available(0), 0)
    assert.equal(throttle.delayMsFor(100, 0), 600)
    assert.equal(throttle.available(500), 0)
    assert.equal(throttle.available(1000), 500)
    assert.equal(throttle.available(10_000), 1000, 'never more than a second saved up')
  })

  it('is unthrottled at Kafka\'s default and follows a rate that changes', () => {
    let rate = UNTHROTTLED
    const throttle = new ByteRateThrottle(() => rate, 0)
    throttle.record(10 ** 9, 0)
    assert.equal(throttle.available(0), UNTHROTTLED)
    rate = 100
    assert.equal(throttle.available(1), 100, 'saved-up bytes are capped at the new rate')
    throttle.record(100, 1)
    assert.equal(throttle.available(1), 0)
    rate = 0
    assert.equal(throttle.available(5000), 0, 'a zero rate stops replication')
  })
})
