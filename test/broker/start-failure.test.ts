/**
 * A broker whose start fails part-way (here: its HTTP port is taken) stops what it had started:
 * the Kafka listener no longer accepts connections, and the data directory is free for the
 * next start in the same process. Real listeners and files, in process (`startBroker`).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { loadBrokerConfig } from '../../src/config/load.js'
import { startBroker, type Logger } from '../../src/main.js'
import { freePort } from '../support/etcd-process.js'

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined }

function listening (port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/** Whether something accepts a TCP connection on the port (refused: false). */
function accepts (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    socket.setTimeout(2_000)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

describe('a broker start that fails part-way', () => {
  const cleanup: (() => Promise<void>)[] = []
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('closes its Kafka listener and releases its data directory', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tributary-start-failure-'))
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }))
    const taken = await listening(0)
    cleanup.push(() => new Promise(resolve => { taken.close(() => resolve()) }))
    const address = taken.address()
    const httpPort = typeof address === 'object' && address !== null ? address.port : 0
    const kafkaPort = await freePort()
    const load = async (http: number): Promise<Awaited<ReturnType<typeof loadBrokerConfig>>> =>
      loadBrokerConfig({ env: {}, flags: { 'data-dir': dataDir, port: String(kafkaPort),
        'http-port': String(http) } })

    await assert.rejects(startBroker((await load(httpPort)).config, quiet), /EADDRINUSE/)
    assert.equal(await accepts(kafkaPort), false, 'the Kafka listener was closed')

    const running = await startBroker((await load(0)).config, quiet)
    cleanup.push(() => running.close())
    assert.equal(running.kafkaPort, kafkaPort, 'the same port and data directory start again')
    assert.equal(await accepts(kafkaPort), true)
  })
})
