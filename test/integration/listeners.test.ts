/**
 * Two listeners, as in a container: PLAINTEXT for the internal network and EXTERNAL for the
 * host. Metadata on each listener advertises that listener's address (Kafka's
 * advertised.listeners), so clients on either side can reach the broker.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { removeDataDir, startBroker } from '../support/broker-process.js'

it('advertises each listener\'s own address in Metadata', async () => {
  const broker = await startBroker({ env: {
    TRIBUTARY_EXTERNAL_LISTENER_PORT: '0',
    TRIBUTARY_EXTERNAL_ADVERTISED_HOST: 'localhost',
    TRIBUTARY_ADVERTISED_HOST: '127.0.0.1',
  } })
  try {
    const externalPort = Number(/external=[\d.]+:(\d+)/.exec(broker.output())?.[1])
    assert.ok(externalPort > 0, broker.output())
    const internal = new KafkaClient({ bootstrap: broker.bootstrap })
    const external = new KafkaClient({ bootstrap: `127.0.0.1:${externalPort}` })
    try {
      const viaInternal = await internal.metadata()
      assert.deepEqual(viaInternal.brokers.map(b => `${b.host}:${b.port}`),
        [`127.0.0.1:${broker.kafkaPort}`])
      const viaExternal = await external.metadata()
      assert.deepEqual(viaExternal.brokers.map(b => `${b.host}:${b.port}`),
        [`localhost:${externalPort}`])
    } finally {
      await internal.close()
      await external.close()
    }
  } finally {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  }
})
