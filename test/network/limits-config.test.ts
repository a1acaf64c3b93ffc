/** The connection-limit properties: Kafka's names and defaults, and the pool's lower bound. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadBrokerConfig } from '../../src/config/index.js'

const load = (env: Record<string, string> = {}): ReturnType<typeof loadBrokerConfig> =>
  loadBrokerConfig({ flags: {}, env })

describe('connection limit properties', () => {
  it('default to Kafka values, and to a bounded request memory pool', async () => {
    const { config } = await load()
    assert.equal(config.connectionsMaxIdleMs, 600_000)
    assert.equal(config.queuedMaxRequests, 500)
    assert.equal(config.maxConnectionsPerIp, 2_147_483_647)
    assert.equal(config.queuedMaxRequestBytes, 512 * 1024 * 1024)
    assert.equal(config.requestFrameTimeoutMs, 30_000)
  })

  it('refuse a request memory pool smaller than one request frame, as Kafka does', async () => {
    await assert.rejects(load({ TRIBUTARY_QUEUED_MAX_REQUEST_BYTES: '1048576' }),
      (error: unknown) => error instanceof ConfigError &&
        /queued\.max\.request\.bytes: 1048576 is below socket\.request\.max\.bytes/
          .test(error.message))
    const unbounded = await load({ TRIBUTARY_QUEUED_MAX_REQUEST_BYTES: '-1' })
    assert.equal(unbounded.config.queuedMaxRequestBytes, -1)
  })
})
