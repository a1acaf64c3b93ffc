/**
 * Starts a real etcd (Debian's `etcd-server`, from PATH) on free loopback ports (client and
 * peer) with a temporary data directory, for cluster tests. `stop` ends it and removes the
 * directory; `restart` stops it and starts it again on the same ports and data (the etcd
 * restart fault). Every etcd started is killed when the test process exits.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before } from 'node:test'
import type { Etcd3 } from 'etcd3'
import { connectEtcd } from '../../src/cluster/etcd-connection.js'

const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export interface EtcdProcess {
  /** `127.0.0.1:PORT`, what `--etcd` takes. */
  endpoint: string
  clientPort: number
  dataDir: string
  output: () => string
  /** SIGKILL, then start again on the same ports and data directory. */
  restart: (downMs?: number) => Promise<void>
  /** Stops etcd without removing its data (the "etcd is down" fault). */
  kill: () => Promise<void>
  /** Starts it again after `kill`. */
  start: () => Promise<void>
  /** Stops etcd and removes its data directory. */
  stop: () => Promise<void>
}

/** True when an `etcd` binary is on PATH (tests skip with a clear reason when not). */
export function etcdAvailable (): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0
}

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export async function startEtcd (): Promise<EtcdProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-etcd-'))
  const clientPort = await freePort()
  const peerPort = await freePort()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let output = ''
  const launch = async (): Promise<void> => {
    const client = `http://127.0.0.1:${clientPort}`
    const peer = `http://127.0.0.1:${peerPort}`
    const etcd = spawn('etcd', [
      '--name', 'test', '--data-dir', dataDir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new',
      // Small heartbeat so leases are checked promptly on a loaded test machine.
      '--heartbeat-interval', '100', '--election-timeout', '1000',
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = etcd
    live.add(etcd)
    exited = new Promise(resolve => etcd.once('exit', () => {
      live.delete(etcd)
      resolve()
    }))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`etcd not ready in 20 s:\n${output}`)),
        20_000)
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('ready to serve client requests')) {
          clearTimeout(timer)
          resolve()
        }
      }
      etcd.stdout?.on('data', onData)
      etcd.stderr?.on('data', onData)
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`etcd exited before it was ready:\n${output}`))
      })
    })
  }
  const kill = async (): Promise<void> => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  }
  await launch()
  return {
    endpoint: `127.0.0.1:${clientPort}`,
    clientPort,
    dataDir,
    output: () => output,
    kill,
    start: async () => {
      output = ''
      await launch()
    },
    restart: async (downMs = 0) => {
      await kill()
      await new Promise(resolve => setTimeout(resolve, downMs))
      output = ''
      await launch()
    },
    stop: async () => {
      await kill()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * A real etcd and a client of it for one `describe` block: started before its tests, closed
 * and stopped after them. Read `etcd` and `client` inside tests, not at definition time.
 */
export function etcdFixture (): { readonly etcd: EtcdProcess, readonly client: Etcd3 } {
  let etcd: EtcdProcess | undefined
  let client: Etcd3 | undefined
  before(async () => {
    etcd = await startEtcd()
    client = connectEtcd([etcd.endpoint])
  })
  after(async () => {
    client?.close()
    await etcd?.stop()
  })
  return {
    get etcd () { assert.ok(etcd !== undefined, 'etcd has started'); return etcd },
    get client () { assert.ok(client !== undefined, 'etcd has started'); return client },
  }
}

/**
 * `client`, except that its next transaction (`if(...)...commit()`, whatever the chain between)
 * fails as if etcd were unreachable: for tests of what a caller does after a failed write.
 * `failed` says whether the failure was injected, so a test can check that its path ran.
 */
export function failingNextTransaction (client: Etcd3):
{ client: Etcd3, readonly failed: boolean } {
  let failed = false
  const commit = (): Promise<never> => Promise.reject(new Error('etcd unreachable (injected)'))
  const chain: object = new Proxy({}, {
    get: (_, property) => property === 'commit' ? commit : () => chain,
  })
  const proxied = new Proxy(client, {
    get (target, property) {
      if (property === 'if' && !failed) {
        failed = true
        return () => chain
      }
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { client: proxied, get failed () { return failed } }
}
