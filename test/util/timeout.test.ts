import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { systemClock } from '../../src/io/clock.js'
import { clampTimeoutMs, TIMEOUT_MAX_MS } from '../../src/util/timeout.js'

describe('clampTimeoutMs', () => {
  it('keeps every delay within what setTimeout can hold', () => {
    assert.equal(clampTimeoutMs(1500), 1500)
    assert.equal(clampTimeoutMs(2 ** 31), TIMEOUT_MAX_MS)
    assert.equal(clampTimeoutMs(Number.MAX_SAFE_INTEGER), TIMEOUT_MAX_MS)
    assert.equal(clampTimeoutMs(Number.POSITIVE_INFINITY), TIMEOUT_MAX_MS)
    assert.equal(clampTimeoutMs(-5), 0)
    assert.equal(clampTimeoutMs(Number.NaN), 0)
  })

  it('a clock timer of 2^31 ms or more waits instead of firing after 1 ms', async () => {
    let fired = 0
    const handles = [2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER].map(delayMs =>
      systemClock.setTimer(delayMs, () => { fired++ }))
    await new Promise(resolve => setTimeout(resolve, 100))
    for (const handle of handles) handle.cancel()
    assert.equal(fired, 0)
  })
})
