/**
 * The fuzzer's lane against a scripted TCP server: answers in order are matched to their
 * requests, an answer out of order is reported, and a server that closes or stays silent
 * ends the exchange without a hang.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, describe, it } from 'node:test'
import { FuzzLane } from './fuzz-lane.js'
import type { FuzzRequest } from './request-generator.js'

type Script = (frames: Buffer[], socket: net.Socket) => void

function request (correlationId: number, options: Partial<FuzzRequest> = {}): FuzzRequest {
  const frame = Buffer.alloc(12)
  frame.writeInt32BE(8, 0)
  frame.writeInt32BE(correlationId, 8)
  return { frame, apiKey: 18, version: 0, correlationId, valid: true, expectsResponse: true,
    endsConnection: false, description: `request ${correlationId}`, ...options }
}

function answer (correlationId: number): Buffer {
  const frame = Buffer.alloc(8)
  frame.writeInt32BE(4, 0)
  frame.writeInt32BE(correlationId, 4)
  return frame
}

/** A server that collects whole 12-byte test frames and hands them to the script. */
async function serve (script: Script): Promise<{ port: number, close: () => void }> {
  const server = net.createServer(socket => {
    let pending = Buffer.alloc(0)
    socket.on('data', chunk => {
      pending = Buffer.concat([pending, chunk])
      const frames: Buffer[] = []
      while (pending.length >= 12) {
        frames.push(pending.subarray(0, 12))
        pending = pending.subarray(12)
      }
      if (frames.length > 0) script(frames, socket)
    })
    socket.on('error', () => undefined)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return { port, close: () => server.close() }
}

describe('fuzz lane', () => {
  const servers: { close: () => void }[] = []
  after(() => { for (const server of servers) server.close() })

  it('matches pipelined answers that come in order', async () => {
    const server = await serve((frames, socket) => {
      for (const frame of frames) socket.write(answer(frame.readInt32BE(8)))
    })
    servers.push(server)
    const lane = new FuzzLane('127.0.0.1', server.port)
    const outcomes = await lane.send([request(1), request(2), request(3)], 2000)
    assert.deepEqual(outcomes.map(o => o.kind), ['answered', 'answered', 'answered'])
    lane.close()
  })

  it('reports answers out of order', async () => {
    const server = await serve((frames, socket) => {
      for (const frame of frames.reverse()) socket.write(answer(frame.readInt32BE(8)))
    })
    servers.push(server)
    const lane = new FuzzLane('127.0.0.1', server.port)
    const outcomes = await lane.send([request(1), request(2)], 2000)
    assert.ok(outcomes.some(o => o.kind === 'misordered'), JSON.stringify(outcomes))
    lane.close()
  })

  it('ends on a close or a silence, and reconnects for the next request', async () => {
    let connections = 0
    const server = await serve((_frames, socket) => {
      connections++
      if (connections === 1) socket.destroy()
    })
    servers.push(server)
    const lane = new FuzzLane('127.0.0.1', server.port)
    assert.deepEqual((await lane.send([request(1), request(2)], 2000)).map(o => o.kind),
      ['closed', 'closed'])
    assert.deepEqual((await lane.send([request(3)], 200)).map(o => o.kind), ['timeout'])
    assert.equal(lane.opened, 2)
    lane.close()
  })
})
