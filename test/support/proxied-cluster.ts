/**
 * A three-broker cluster on a real etcd where every link a network fault can cut goes through a
 * fault proxy (test/support/fault-proxy.ts):
 *
 * - broker X reaches etcd only through its own proxy `etcd-X`;
 * - broker X's PLAINTEXT listener is advertised as the address of its proxy `broker-X`, so the
 *   other brokers (forwarding to the controller, followers fetching from a leader) reach it only
 *   through that proxy;
 * - the test's clients use each broker's EXTERNAL listener (`external.listener.port`), whose
 *   Metadata names the EXTERNAL addresses, so clients never cross a proxy and still reach a
 *   broker that is cut off from the others (the zombie-leader case).
 *
 * Cutting broker X = blackholing `broker-X` and `etcd-X`: X loses its etcd session and nobody
 * can fetch from it. Its own outgoing connections to other brokers cross their proxies, which
 * stay open; a proxy cannot tell which broker a loopback connection comes from.
 *
 * A restarted broker keeps its data directory and proxies; its proxy is pointed at the new port.
 * `stop` ends every broker, etcd and proxy and removes every directory.
 */
import { envName } from '../../src/config/load.js'
import { BROKER_CONFIG_BY_NAME } from '../../src/config/schema.js'
import { removeDataDir, startBroker, type BrokerProcess } from './broker-process.js'
import { freePort, startEtcd, type EtcdProcess } from './etcd-process.js'
import { FaultProxy, type FaultMode } from './fault-proxy.js'

export interface ProxiedBroker {
  nodeId: number
  process: BrokerProcess | undefined
  dataDir: string | undefined
  /** The EXTERNAL listener's port (clients bootstrap here); the same after a restart, so a
   * client's cached broker addresses stay right. */
  externalPort: number
  /** The inter-broker proxy (the advertised PLAINTEXT address). */
  brokerProxy: FaultProxy
  etcdProxy: FaultProxy
  /** True between SIGSTOP and SIGCONT. */
  stopped: boolean
}

export interface ProxiedClusterOptions {
  size?: number
  sessionTimeoutMs?: number
  /** Broker properties (each one the broker's schema knows). */
  properties?: Record<string, string>
  /** Keep at most this many bytes of each broker's output. */
  outputTailBytes?: number
}

/**
 * The brokers' environment for `properties`. A property the schema does not know is an error,
 * not left out: the brokers would run without it (replica.lag.time.max.ms, say) and the faults
 * that rely on it would prove nothing.
 */
function propertiesEnv (properties: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(properties)) {
    if (!BROKER_CONFIG_BY_NAME.has(name)) throw new Error(`unknown broker property ${name}`)
    env[envName(name)] = value
  }
  return env
}

const EXTERNAL_PATTERN = /external=[\d.]+:(\d+)/

export class ProxiedCluster {
  readonly etcd: EtcdProcess
  readonly brokers = new Map<number, ProxiedBroker>()
  readonly sessionTimeoutMs: number
  readonly #env: Record<string, string>
  readonly #outputTailBytes: number | undefined

  private constructor (etcd: EtcdProcess, options: ProxiedClusterOptions,
    env: Record<string, string>) {
    this.etcd = etcd
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 3_000
    this.#outputTailBytes = options.outputTailBytes
    this.#env = env
  }

  static async start (options: ProxiedClusterOptions = {}): Promise<ProxiedCluster> {
    const env = propertiesEnv({
      'broker.session.timeout.ms': String(options.sessionTimeoutMs ?? 3_000),
      'offsets.topic.num.partitions': '3',
      ...options.properties,
    })
    const etcd = await startEtcd()
    const cluster = new ProxiedCluster(etcd, options, env)
    try {
      const ids = Array.from({ length: options.size ?? 3 }, (_, index) => index + 1)
      for (const nodeId of ids) {
        cluster.brokers.set(nodeId, {
          nodeId, process: undefined, dataDir: undefined, externalPort: await freePort(),
          stopped: false,
          brokerProxy: await FaultProxy.start(undefined, `broker-${nodeId}`),
          etcdProxy: await FaultProxy.start(etcd.clientPort, `etcd-${nodeId}`),
        })
      }
      await Promise.all(ids.map(async nodeId => cluster.startNode(nodeId)))
    } catch (error) {
      await cluster.stop()
      throw error
    }
    return cluster
  }

  broker (nodeId: number): ProxiedBroker {
    const broker = this.brokers.get(nodeId)
    if (broker === undefined) throw new Error(`no broker ${nodeId}`)
    return broker
  }

  /** Live (started, not killed) broker ids. */
  get liveIds (): number[] {
    return [...this.brokers.values()].filter(b => b.process !== undefined).map(b => b.nodeId)
  }

  /** EXTERNAL bootstrap addresses of every broker (fixed across restarts). */
  get bootstrap (): string[] {
    return [...this.brokers.values()].map(b => `127.0.0.1:${b.externalPort}`)
  }

  /** Starts (or restarts, on its data directory) broker `nodeId`. */
  async startNode (nodeId: number): Promise<void> {
    const broker = this.broker(nodeId)
    if (broker.process !== undefined) throw new Error(`broker ${nodeId} is running`)
    const started = await startBroker({
      ...(broker.dataDir === undefined ? {} : { dataDir: broker.dataDir }),
      ...(this.#outputTailBytes === undefined ? {} : { outputTailBytes: this.#outputTailBytes }),
      args: ['--node-id', String(nodeId), '--etcd', `127.0.0.1:${broker.etcdProxy.port}`],
      env: {
        ...this.#env,
        TRIBUTARY_ADVERTISED_PORT: String(broker.brokerProxy.port),
        TRIBUTARY_EXTERNAL_LISTENER_PORT: String(broker.externalPort),
      },
      readyTimeoutMs: 40_000,
    })
    if (EXTERNAL_PATTERN.exec(started.output())?.[1] !== String(broker.externalPort)) {
      await started.kill()
      throw new Error(`broker ${nodeId} has no EXTERNAL listener on ${broker.externalPort}:\n` +
        started.output())
    }
    broker.process = started
    broker.dataDir = started.dataDir
    broker.stopped = false
    broker.brokerProxy.setTarget(started.kafkaPort)
  }

  /** SIGKILL; the data directory stays for a restart. */
  async kill (nodeId: number): Promise<void> {
    const broker = this.broker(nodeId)
    if (broker.stopped) this.resume(nodeId)
    await broker.process?.kill()
    broker.process = undefined
  }

  /** SIGSTOP: the process is frozen, its sockets stay open (a GC pause, a stuck VM). */
  pause (nodeId: number): void {
    const broker = this.broker(nodeId)
    if (broker.process === undefined || broker.stopped) return
    broker.process.child.kill('SIGSTOP')
    broker.stopped = true
  }

  resume (nodeId: number): void {
    const broker = this.broker(nodeId)
    if (broker.process === undefined || !broker.stopped) return
    broker.process.child.kill('SIGCONT')
    broker.stopped = false
  }

  /** Cuts (or heals) broker `nodeId`'s links to etcd and from the other brokers. */
  network (nodeId: number, mode: FaultMode): void {
    const broker = this.broker(nodeId)
    broker.brokerProxy.setMode(mode)
    broker.etcdProxy.setMode(mode)
  }

  async stop (): Promise<void> {
    for (const broker of this.brokers.values()) this.resume(broker.nodeId)
    await Promise.all([...this.brokers.values()].map(async broker => {
      await broker.process?.kill()
      broker.process = undefined
      await broker.brokerProxy.close()
      await broker.etcdProxy.close()
    }))
    await this.etcd.stop()
    await Promise.all([...this.brokers.values()].map(async broker =>
      broker.dataDir === undefined ? undefined : removeDataDir(broker.dataDir)))
  }
}
