/**
 * Starts a real etcd (Debian's `etcd-server`, from PATH) on free loopback ports (client and
 * peer) with a temporary data directory, for cluster tests. `stop` ends it and removes the
 * directory; `restart` stops it and starts it again on the same ports and data (the etcd
 * restart fault). Every etcd started is killed when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'

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
