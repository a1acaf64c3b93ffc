/**
 * `tributary dev-cluster --brokers N` (`npm run cluster`): a local cluster for development.
 * It starts etcd from PATH (one clear line naming the Debian package when it is missing) with
 * its data under `<data-root>/etcd`, then N brokers as child processes of this one: node ids
 * 1..N, Kafka on 9092.., HTTP on 8080.., data under `<data-root>/broker-N`. Their output is
 * prefixed with `[broker-N]`. Ctrl-C (or SIGTERM) stops the brokers cleanly (SIGTERM, each
 * within its shutdown budget), then etcd; if one broker exits on its own, everything stops.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { STEADY_LOAD_NODE_FLAGS } from '../io/v8-tuning.js'
import { CliError, integerOption } from './output.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/tributary.js')
const ETCD_READY_MS = 20_000
const STOP_GRACE_MS = 6_000

export function registerDevClusterCommand (program: Command): void {
  program.command('dev-cluster')
    .description('run etcd and N brokers locally (Kafka 9092.., HTTP 8080..)')
    .option('--brokers <count>', 'how many brokers', '3')
    .option('--data-root <dir>', 'where etcd and the brokers keep data', './segments/cluster')
    .option('--kafka-port <port>', 'Kafka port of broker 1 (the others follow)', '9092')
    .option('--http-port <port>', 'HTTP port of broker 1 (the others follow)', '8080')
    .option('--etcd-port <port>', 'etcd client port (peer port is the next one)', '2379')
    .action(async options => {
      const count = integerOption('--brokers', options.brokers) as number
      if (count < 1 || count > 9) throw new CliError('--brokers must be between 1 and 9', 2)
      await runDevCluster({
        count,
        dataRoot: path.resolve(String(options.dataRoot)),
        kafkaPort: integerOption('--kafka-port', options.kafkaPort) as number,
        httpPort: integerOption('--http-port', options.httpPort) as number,
        etcdPort: integerOption('--etcd-port', options.etcdPort) as number,
      })
    })
}

interface DevClusterPlan {
  count: number
  dataRoot: string
  kafkaPort: number
  httpPort: number
  etcdPort: number
}

async function runDevCluster (plan: DevClusterPlan): Promise<void> {
  await mkdir(plan.dataRoot, { recursive: true })
  const etcd = await startEtcd(plan)
  const brokers: ChildProcess[] = []
  let stopping = false
  const stopAll = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true
      console.log('stopping the brokers, then etcd')
      await Promise.all(brokers.map(child => stopChild(child, 'SIGTERM')))
      await stopChild(etcd, 'SIGTERM')
    }
    process.exit(code)
  }
  process.on('SIGINT', () => void stopAll(0))
  process.on('SIGTERM', () => void stopAll(0))
  for (let nodeId = 1; nodeId <= plan.count; nodeId++) {
    const child = spawn(process.execPath, [...STEADY_LOAD_NODE_FLAGS, BIN, 'broker',
      '--node-id', String(nodeId),
      '--etcd', `127.0.0.1:${plan.etcdPort}`,
      '--port', String(plan.kafkaPort + nodeId - 1),
      '--http-port', String(plan.httpPort + nodeId - 1),
      '--data-dir', path.join(plan.dataRoot, `broker-${nodeId}`)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: replicationDefaults(plan.count) })
    prefixOutput(child, `[broker-${nodeId}]`)
    child.once('exit', code => {
      if (!stopping) {
        console.error(`broker ${nodeId} exited (${String(code)}); stopping the cluster`)
        void stopAll(1)
      }
    })
    brokers.push(child)
  }
  console.log(`dev cluster: etcd 127.0.0.1:${plan.etcdPort}, ${plan.count} brokers on ` +
    `127.0.0.1:${plan.kafkaPort}-${plan.kafkaPort + plan.count - 1}, HTTP ` +
    `${plan.httpPort}-${plan.httpPort + plan.count - 1}; Ctrl-C stops them all`)
}

async function startEtcd (plan: DevClusterPlan): Promise<ChildProcess> {
  const client = `http://127.0.0.1:${plan.etcdPort}`
  const peer = `http://127.0.0.1:${plan.etcdPort + 1}`
  const child = spawn('etcd', ['--name', 'dev', '--data-dir', path.join(plan.dataRoot, 'etcd'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `dev=${peer}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new CliError(`etcd did not start within ${ETCD_READY_MS} ms: ` +
        `${output.trim().split('\n').pop() ?? ''}`, 1))
    }, ETCD_READY_MS)
    child.once('error', error => {
      clearTimeout(timer)
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
      reject(new CliError(missing
        ? 'etcd is not installed (not on PATH): install the Debian package etcd-server ' +
          '(apt-get install etcd-server)'
        : `etcd failed to start: ${error.message}`, 1))
    })
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4096)
      if (output.includes('ready to serve client requests')) {
        clearTimeout(timer)
        prefixOutput(child, '[etcd]', true)
        resolve(child)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new CliError(`etcd exited (${String(code)}) before it was ready: ` +
        `${output.trim().split('\n').pop() ?? ''}`, 1))
    })
  })
}

/** Copies a child's lines to ours with a prefix (etcd: warnings and errors only). */
function prefixOutput (child: ChildProcess, prefix: string, quiet = false): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue
    createInterface({ input: stream }).on('line', line => {
      if (quiet && !/"level":"(warn|error|fatal)"|\b(W|E) \|/.test(line)) return
      console.log(`${prefix} ${line}`)
    })
  }
}

function stopChild (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill(signal)
  })
}

/**
 * A development cluster replicates by default, like the compose file: new topics get three
 * replicas (or as many as there are brokers) and acks=all needs two of them in sync, so a
 * broker can be killed without losing acknowledged records. Variables already set win.
 */
function replicationDefaults (count: number): NodeJS.ProcessEnv {
  return {
    TRIBUTARY_DEFAULT_REPLICATION_FACTOR: String(Math.min(3, count)),
    TRIBUTARY_MIN_INSYNC_REPLICAS: String(count >= 3 ? 2 : 1),
    ...process.env,
  }
}
