/**
 * The fault-injecting proxy against a real echo server on loopback: bytes pass unchanged,
 * `delay` holds them at least the delay and keeps their order, `blackhole` forwards nothing
 * until healed and then everything, `drop` closes open connections and refuses new ones, a new
 * target takes new connections, and `close` leaves no socket open.
 */
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { FaultProxy } from '../support/fault-proxy.js'

async function echoServer (): Promise<{ server: Server, port: number, sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer(socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    socket.pipe(socket)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const address = server.address()
  assert.ok(address !== null && typeof address === 'object')
  return { server, port: address.port, sockets }
}

/** A client that collects what it receives; `closed` resolves when the proxy closes it. */
async function client (port: number):
Promise<{ socket: Socket, received: () => string, closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port })
  let text = ''
  socket.on('data', chunk => { text += chunk.toString() })
  socket.on('error', () => undefined)
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return { socket, received: () => text, closed }
}

async function until (what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

const sleep = async (ms: number): Promise<void> =>
  new Promise(resolve => setTimeout(resolve, ms))

describe('FaultProxy', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>
  const open: Socket[] = []
  const proxies: FaultProxy[] = []

  before(async () => {
    echo = await echoServer()
  })
  after(async () => {
    for (const socket of open) socket.destroy()
    await Promise.all(proxies.map(proxy => proxy.close()))
    for (const socket of echo.sockets) socket.destroy()
    await new Promise<void>(resolve => echo.server.close(() => resolve()))
  })

  async function proxyAndClient (): Promise<{ proxy: FaultProxy,
    c: Awaited<ReturnType<typeof client>> }> {
    const proxy = await FaultProxy.start(echo.port)
    proxies.push(proxy)
    const c = await client(proxy.port)
    open.push(c.socket)
    return { proxy, c }
  }

  it('passes bytes both ways unchanged', async () => {
    const { c } = await proxyAndClient()
    const payload = 'x'.repeat(200_000) + 'end'
    c.socket.write(payload)
    await until('echo', () => c.received().length === payload.length)
    assert.equal(c.received(), payload)
  })

  it('delays each chunk at least the delay, in order', async () => {
    const { proxy, c } = await proxyAndClient()
    proxy.setMode({ kind: 'delay', delayMs: 150 })
    const sent = Date.now()
    for (let i = 0; i < 20; i++) {
      c.socket.write(`<${i}>`)
      await sleep(2)
    }
    await until('delayed echo', () => c.received().endsWith('<19>'))
    // Both directions are delayed: at least two delays before the first byte returns.
    assert.ok(Date.now() - sent >= 300)
    assert.equal(c.received(), Array.from({ length: 20 }, (_, i) => `<${i}>`).join(''))
  })

  it('blackholes open and new connections until healed, then delivers', async () => {
    const { proxy, c } = await proxyAndClient()
    c.socket.write('before')
    await until('echo', () => c.received() === 'before')
    proxy.setMode({ kind: 'blackhole' })
    c.socket.write('during')
    const late = await client(proxy.port)
    open.push(late.socket)
    late.socket.write('new')
    await sleep(300)
    assert.equal(c.received(), 'before', 'nothing crosses a blackhole')
    assert.equal(late.received(), '')
    assert.equal(c.socket.destroyed, false, 'the connection is kept')
    proxy.setMode({ kind: 'pass' })
    await until('healed', () => c.received() === 'beforeduring' && late.received() === 'new')
  })

  it('drop closes open connections and refuses new ones; pass accepts again', async () => {
    const { proxy, c } = await proxyAndClient()
    c.socket.write('a')
    await until('echo', () => c.received() === 'a')
    proxy.setMode({ kind: 'drop' })
    await c.closed
    const refused = connect({ host: '127.0.0.1', port: proxy.port })
    refused.on('error', () => undefined)
    await new Promise<void>(resolve => refused.once('close', () => resolve()))
    assert.equal(proxy.openLinks, 0)
    proxy.setMode({ kind: 'pass' })
    const again = await client(proxy.port)
    open.push(again.socket)
    again.socket.write('b')
    await until('echo again', () => again.received() === 'b')
  })

  it('sends new connections to a new target', async () => {
    const { proxy, c } = await proxyAndClient()
    const other = await echoServer()
    try {
      proxy.setTarget(other.port)
      const moved = await client(proxy.port)
      open.push(moved.socket)
      moved.socket.write('m')
      await until('echo from the new target', () => moved.received() === 'm')
      assert.equal(other.sockets.size, 1)
      c.socket.write('old')
      await until('old link still on the old target', () => c.received() === 'old')
    } finally {
      for (const socket of other.sockets) socket.destroy()
      await new Promise<void>(resolve => other.server.close(() => resolve()))
    }
  })

  it('closes every link on close, and a link whose target is down', async () => {
    const { proxy, c } = await proxyAndClient()
    const dead = await FaultProxy.start(1)
    proxies.push(dead)
    const refused = connect({ host: '127.0.0.1', port: dead.port })
    refused.on('error', () => undefined)
    await new Promise<void>(resolve => refused.once('close', () => resolve()))
    await until('the dead link ends', () => dead.openLinks === 0)
    await proxy.close()
    proxies.splice(proxies.indexOf(proxy), 1)
    await c.closed
    assert.equal(proxy.openLinks, 0)
  })
})
