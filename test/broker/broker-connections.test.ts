/**
 * The pooled connections to the other brokers (src/broker/broker-connections.ts): one per
 * registered broker at its registered address, reopened when it closes or the address
 * changes, with the pool's own connection options.
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import {
  BrokerConnections, BrokerUnavailableError,
} from '../../src/broker/broker-connections.js'
import { MetadataImage } from '../../src/metadata/image.js'
import {
  Echo, echoResponse, startFakeBroker, type FakeBroker,
} from '../client/fake-broker.js'

const brokers: FakeBroker[] = []
after(async () => {
  for (const broker of brokers) await broker.close()
})

/** A fake broker that echoes, noting each request's client id. */
async function fake (clientIds: (string | null)[]): Promise<FakeBroker> {
  const broker = await startFakeBroker({ handle: request => {
    clientIds.push(request.clientId)
    request.socket.write(echoResponse(request))
  } })
  brokers.push(broker)
  return broker
}

function register (image: MetadataImage, brokerId: number, port: number): void {
  image.replay({ type: 'RegisterBroker', version: 0, brokerId, host: '127.0.0.1', port,
    rack: null })
}

it('keeps one connection per broker, reopened after it closes or the broker moves', async () => {
  const clientIds: (string | null)[] = []
  const first = await fake(clientIds)
  const image = new MetadataImage()
  register(image, 2, first.port)
  const pool = new BrokerConnections(image, { clientId: 'pool-test', requestTimeoutMs: 2_000 })
  try {
    const answers = await Promise.all([1, 2, 3].map(i =>
      pool.send(2, Echo, { payload: `p${i}` })))
    assert.deepEqual(answers.map(answer => answer.payload), ['p1', 'p2', 'p3'])
    assert.equal(first.sockets.length, 1, 'one pooled connection')
    assert.deepEqual(clientIds, ['pool-test', 'pool-test', 'pool-test'])

    // The peer drops the connection: the next request opens a new one.
    first.sockets[0]?.destroy()
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal((await pool.send(2, Echo, { payload: 'again' })).payload, 'again')
    assert.equal(first.sockets.length, 2)

    // The broker registers at another address: the pool follows it.
    const moved = await fake(clientIds)
    register(image, 2, moved.port)
    assert.equal((await pool.send(2, Echo, { payload: 'moved' })).payload, 'moved')
    assert.equal(moved.sockets.length, 1)

    await assert.rejects(pool.send(3, Echo, { payload: 'x' }), BrokerUnavailableError)
  } finally {
    pool.close()
  }
  await assert.rejects(pool.send(2, Echo, { payload: 'x' }), BrokerUnavailableError)
})
