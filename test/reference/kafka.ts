/**
 * A real Apache Kafka broker, the reference Tributary is compared with (issue #13): Kafka 4.1
 * in KRaft combined mode (each node both broker and controller), one node or a cluster of
 * them (issue #15's RF=3 comparison), run from jars that
 * Maven fetches from Maven Central into a cache folder outside the repository, on free
 * loopback ports with a temporary data directory that is removed on stop.
 *
 *   fetchKafka()       the jars (test/reference/pom.xml's runtime classpath), fetched once into
 *                      $XDG_CACHE_HOME/tributary/kafka-<version>-<pom hash>/ (default ~/.cache)
 *   startKafka(...)    kafka-storage format --standalone, then kafka.Kafka server.properties;
 *                      resolves once the broker lists itself in Metadata
 *   startKafkaCluster(3, ...)  three combined broker+controller nodes, a quorum of three
 *                      voters (format --initial-controllers); resolves once Metadata lists
 *                      all three brokers
 *   referenceMissing() why the reference cannot run here (no java, or no jars and no mvn)
 *
 * Every JVM started is killed when this process exits, even if a caller forgets to stop it,
 * and stops by itself when this process dies without running exit handlers (SIGKILL, a test
 * runner's timeout): it runs under a watchdog shell that sends it SIGTERM when its stdin, a
 * pipe from this process, closes.
 * Concurrency: two processes fetching at once each copy into their own temporary folder and
 * rename it into place; the loser discards its copy, so a reader never sees half a folder.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { KafkaClient } from '../../src/client/client.js'
import { REPO_ROOT } from '../support/broker-process.js'

export const KAFKA_VERSION = '4.1.2'
const POM = path.join(REPO_ROOT, 'test/reference/pom.xml')

/** Kafka's own JVM flags (kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS), with a small heap. */
const JVM_FLAGS = ['-server', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15', '-Djava.awt.headless=true']

/** The bytes of JVM output kept for error messages (Kafka logs its whole config at INFO). */
const OUTPUT_TAIL_BYTES = 64 * 1024
const FETCH_TIMEOUT_MS = 10 * 60_000
const FORMAT_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 30_000

const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL')
})

/**
 * Runs its arguments (the JVM) with stdin closed, and SIGTERMs it once the shell's own stdin
 * reaches end of file: this process closes that pipe to stop the JVM, and the kernel closes it
 * when this process dies. The shell exits with the JVM's status when the JVM ends first.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null &',
  'jvm=$!',
  '{ read -r _ <&3; kill -TERM "$jvm"; } >/dev/null 2>&1 &',
  'wait "$jvm"',
].join('\n')

/** The watchdog, the JVM and the reader share a process group (spawned detached). */
function killGroup (child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

export interface ReferenceKafka {
  bootstrap: string
  port: number
  controllerPort: number
  dataDir: string
  /** The last 64 KiB of the JVM's output. */
  output: () => string
  /** SIGTERM (a controlled shutdown), SIGKILL after 30 s; removes the data directory. */
  stop: () => Promise<void>
}

export interface KafkaStartOptions {
  /** Broker properties on top of the single-node base (e.g. log.flush.interval.messages). */
  config?: Record<string, string>
  heapMb?: number
  readyTimeoutMs?: number
}

interface Run { code: number | null, output: string }

/** Runs a command to its end, keeping the tail of its output; never rejects for a non-zero exit. */
function run (command: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (chunk: Buffer): void => { output = tail(output + chunk.toString()) }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', error => { clearTimeout(timer); reject(error) })
    child.once('close', code => { clearTimeout(timer); resolve({ code, output }) })
  })
}

function tail (text: string): string {
  return text.length > OUTPUT_TAIL_BYTES ? text.slice(text.length - OUTPUT_TAIL_BYTES) : text
}

async function hasCommand (command: string, versionFlag: string): Promise<boolean> {
  try {
    return (await run(command, [versionFlag], 30_000)).code === 0
  } catch {
    return false
  }
}

async function exists (file: string): Promise<boolean> {
  return access(file).then(() => true, () => false)
}

/** The cache folder of this pom's jars: a changed pom gets a folder of its own. */
async function libsDir (): Promise<string> {
  const hash = createHash('sha256').update(await readFile(POM)).digest('hex').slice(0, 12)
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache')
  return path.join(cache, 'tributary', `kafka-${KAFKA_VERSION}-${hash}`, 'libs')
}

/**
 * Why the reference broker cannot run on this machine, or undefined if it can: Java is
 * always needed, Maven only while the jars are not cached yet.
 */
export async function referenceMissing (): Promise<string | undefined> {
  if (!await hasCommand('java', '-version')) return 'java (17+) is not installed'
  if (await exists(await libsDir())) return undefined
  if (!await hasCommand('mvn', '-v')) return 'mvn is not installed and the Kafka jars are not cached'
  return undefined
}

/** The folder of Kafka's runtime jars, fetched with Maven on first use. */
export async function fetchKafka (): Promise<string> {
  const libs = await libsDir()
  if (await exists(libs)) return libs
  await mkdir(path.dirname(libs), { recursive: true })
  const staging = await mkdtemp(`${libs}.tmp-`)
  try {
    const fetched = await run('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies',
      '-DincludeScope=runtime', `-DoutputDirectory=${staging}`], FETCH_TIMEOUT_MS)
    if (fetched.code !== 0) {
      throw new Error(`mvn could not fetch Kafka ${KAFKA_VERSION} (exit ${fetched.code}):\n` +
        fetched.output)
    }
    await rename(staging, libs).catch(async (error: NodeJS.ErrnoException) => {
      // Another process renamed its complete copy first: use that one.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
    })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return libs
}

/** A port free on 127.0.0.1 now (the broker binds it moments later; a clash is retried). */
function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'))
        else resolve(address.port)
      })
    })
  })
}

/** One KRaft node of a reference cluster: its id, ports and data directory. */
interface NodeSpec {
  nodeId: number
  port: number
  controllerPort: number
  dataDir: string
  /** Kafka's Uuid of this node's metadata log directory (KIP-853's voter directory id). */
  directoryId: string
}

/**
 * A KRaft broker+controller on loopback, as Kafka's config/server.properties: one node of
 * `voters.length` combined nodes, all of them voters.
 */
function serverProperties (node: NodeSpec, voters: NodeSpec[],
  config: Record<string, string>): string {
  const replicas = Math.min(3, voters.length)
  const minIsr = Math.min(2, voters.length)
  const base: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(node.nodeId),
    // KIP-853's dynamic quorum: the voters are found through these and recorded at format time.
    'controller.quorum.bootstrap.servers': voters
      .map(voter => `127.0.0.1:${voter.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': path.join(node.dataDir, 'data'),
    // The internal topics cannot have more replicas than there are brokers: Kafka's defaults
    // (replication factor 3, min ISR 2) from three nodes up.
    'offsets.topic.replication.factor': String(replicas),
    'transaction.state.log.replication.factor': String(replicas),
    'transaction.state.log.min.isr': String(minIsr),
    'share.coordinator.state.topic.replication.factor': String(replicas),
    'share.coordinator.state.topic.min.isr': String(minIsr),
    // A test broker: the first group forms at once instead of after the default 3 s.
    'group.initial.rebalance.delay.ms': '0',
  }
  return Object.entries({ ...base, ...config })
    .map(([name, value]) => `${name}=${value}`).join('\n') + '\n'
}

const LOG4J2 = [
  'status = warn',
  'appender.stdout.type = Console',
  'appender.stdout.name = STDOUT',
  'appender.stdout.layout.type = PatternLayout',
  'appender.stdout.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
].join('\n') + '\n'

function javaArgs (libs: string, dataDir: string, heapMb: number): string[] {
  return [`-Xmx${heapMb}m`, `-Xms${heapMb}m`, ...JVM_FLAGS,
    `-Dlog4j2.configurationFile=${path.join(dataDir, 'log4j2.properties')}`,
    '-cp', `${libs}/*`]
}

/**
 * A random cluster id as Kafka's Uuid.randomUuid makes one: base64url of 16 bytes, never
 * starting with '-' (the format tool's argument parser would take it for an option; the
 * smoke test failed about once in 64 runs that way).
 */
function newClusterId (): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/**
 * kafka-storage format of one node (KIP-853): `--standalone` for a single node, or
 * `--initial-controllers id@host:port:directory-id,...` naming every voter of a cluster, so all
 * nodes start with the same quorum of `voters.length` voters.
 */
async function format (libs: string, node: NodeSpec, voters: NodeSpec[], clusterId: string):
  Promise<void> {
  const quorum = voters.length === 1 ? ['--standalone'] : ['--initial-controllers', voters
    .map(voter => `${voter.nodeId}@127.0.0.1:${voter.controllerPort}:${voter.directoryId}`)
    .join(',')]
  const formatted = await run('java', [...javaArgs(libs, node.dataDir, 256),
    'kafka.tools.StorageTool', 'format', '-t', clusterId,
    '-c', path.join(node.dataDir, 'server.properties'), ...quorum], FORMAT_TIMEOUT_MS)
  if (formatted.code !== 0) {
    throw new Error(`kafka-storage format of node ${node.nodeId} failed ` +
      `(exit ${formatted.code}):\n${formatted.output}`)
  }
}

/** Resolves once Metadata lists `brokers` brokers (registered and unfenced). */
async function waitReady (bootstrap: string, brokers: number, exited: Promise<unknown>,
  timeoutMs: number, output: () => string): Promise<void> {
  let gone = false
  void exited.then(() => { gone = true })
  const deadline = Date.now() + timeoutMs
  while (!gone) {
    const client = new KafkaClient({ bootstrap, requestTimeoutMs: 2000, connectTimeoutMs: 2000 })
    try {
      if ((await client.metadata([])).brokers.length >= brokers) return
    } catch {
      // not listening yet
    } finally {
      await client.close()
    }
    if (Date.now() > deadline) {
      throw new Error(`Kafka not ready on ${bootstrap} within ${timeoutMs} ms:\n${output()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`Kafka exited before it was ready:\n${output()}`)
}

/** A JVM running kafka.Kafka under the watchdog, with the tail of its output. */
interface KafkaJvm {
  child: ChildProcess
  output: () => string
  /** Resolves when the watchdog (and so the JVM) has exited. */
  exited: Promise<void>
  /** Ends the JVM: SIGTERM through the watchdog, SIGKILL after `graceMs`. */
  end: (graceMs: number) => Promise<void>
}

function spawnKafka (libs: string, dataDir: string, heapMb: number): KafkaJvm {
  const child = spawn('bash', ['-c', WATCHDOG, 'reference-kafka', 'java',
    ...javaArgs(libs, dataDir, heapMb), 'kafka.Kafka', path.join(dataDir, 'server.properties')],
  { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  live.add(child)
  let output = ''
  const keep = (chunk: Buffer): void => { output = tail(output + chunk.toString()) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>(resolve => {
    child.once('close', () => {
      live.delete(child)
      child.stdin?.destroy() // lets the watchdog's reader go if the JVM ended by itself
      resolve()
    })
    child.once('error', error => { keep(Buffer.from(String(error))); live.delete(child); resolve() })
  })
  const end = async (graceMs: number): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.stdin?.end()
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
  return { child, output: () => output, exited, end }
}

/**
 * The pid of the JVM itself (the watchdog shell's `java` child), for its CPU time in
 * /proc/<pid>/stat; undefined where /proc has no `children` file (not Linux) or it has exited.
 */
export async function jvmPid (watchdog: ChildProcess): Promise<number | undefined> {
  if (watchdog.pid === undefined) return undefined
  const children = await readFile(`/proc/${watchdog.pid}/task/${watchdog.pid}/children`, 'utf8')
    .catch(() => '')
  for (const pid of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
    const command = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')
    if (command.trim() === 'java') return pid
  }
  return undefined
}

async function newNode (nodeId: number): Promise<NodeSpec> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reference-kafka-'))
  return { nodeId, port: await freePort(), controllerPort: await freePort(), dataDir,
    directoryId: newClusterId() }
}

/** Writes each node's configuration and formats its storage (in parallel: a JVM each). */
async function prepare (libs: string, nodes: NodeSpec[], config: Record<string, string>):
  Promise<void> {
  const clusterId = newClusterId()
  await Promise.all(nodes.map(async node => {
    await writeFile(path.join(node.dataDir, 'server.properties'),
      serverProperties(node, nodes, config))
    await writeFile(path.join(node.dataDir, 'log4j2.properties'), LOG4J2)
    await format(libs, node, nodes, clusterId)
  }))
}

async function removeDirs (nodes: NodeSpec[]): Promise<void> {
  await Promise.all(nodes.map(node => rm(node.dataDir, { recursive: true, force: true })))
}

async function startOnce (libs: string, options: KafkaStartOptions): Promise<ReferenceKafka> {
  const node = await newNode(1)
  try {
    await prepare(libs, [node], options.config ?? {})
  } catch (error) {
    await removeDirs([node])
    throw error
  }
  const jvm = spawnKafka(libs, node.dataDir, options.heapMb ?? 512)
  const stop = async (): Promise<void> => {
    await jvm.end(STOP_TIMEOUT_MS)
    await removeDirs([node])
  }
  const bootstrap = `127.0.0.1:${node.port}`
  try {
    await waitReady(bootstrap, 1, jvm.exited, options.readyTimeoutMs ?? 90_000, jvm.output)
  } catch (error) {
    await stop()
    throw error
  }
  return { bootstrap, port: node.port, controllerPort: node.controllerPort,
    dataDir: node.dataDir, output: jvm.output, stop }
}

/** Retries `start` with new ports when another process took one between probe and bind. */
async function withFreshPorts<T> (start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start()
    } catch (error) {
      const clash = error instanceof Error && /Address already in use/.test(error.message)
      if (!clash || attempt >= 3) throw error
    }
  }
}

/** Fetches the jars if needed and starts a fresh single-node Kafka on free loopback ports. */
export async function startKafka (options: KafkaStartOptions = {}): Promise<ReferenceKafka> {
  const libs = await fetchKafka()
  return withFreshPorts(async () => startOnce(libs, options))
}

export interface ReferenceKafkaNode {
  nodeId: number
  port: number
  controllerPort: number
  dataDir: string
  /** The JVM's pid (for its CPU seconds), undefined once it has exited. */
  pid: () => Promise<number | undefined>
  /** The last 64 KiB of the JVM's output. */
  output: () => string
}

export interface ReferenceKafkaCluster {
  /** Every node's listener, comma-separated. */
  bootstrap: string
  nodes: ReferenceKafkaNode[]
  /** Kills every JVM and removes every data directory. */
  stop: () => Promise<void>
}

/**
 * How long a cluster's JVMs get after SIGTERM before SIGKILL. Short: the data is thrown away,
 * and the last nodes of a quorum stopping together would wait on controlled shutdown for a
 * controller that is already gone.
 */
const CLUSTER_STOP_GRACE_MS = 3_000

async function startClusterOnce (libs: string, size: number, options: KafkaStartOptions):
  Promise<ReferenceKafkaCluster> {
  const nodes: NodeSpec[] = []
  for (let nodeId = 1; nodeId <= size; nodeId++) nodes.push(await newNode(nodeId))
  try {
    await prepare(libs, nodes, options.config ?? {})
  } catch (error) {
    await removeDirs(nodes)
    throw error
  }
  const jvms = nodes.map(node => spawnKafka(libs, node.dataDir, options.heapMb ?? 384))
  const stop = async (): Promise<void> => {
    await Promise.all(jvms.map(jvm => jvm.end(CLUSTER_STOP_GRACE_MS)))
    await removeDirs(nodes)
  }
  const bootstrap = nodes.map(node => `127.0.0.1:${node.port}`).join(',')
  const output = (): string => jvms.map((jvm, index) =>
    `--- node ${index + 1} ---\n${jvm.output().slice(-8192)}`).join('\n')
  try {
    // Ready when every broker is registered and unfenced; any JVM exiting first is a failure.
    await waitReady(bootstrap, size, Promise.race(jvms.map(jvm => jvm.exited)),
      options.readyTimeoutMs ?? 120_000, output)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    bootstrap,
    nodes: nodes.map((node, index) => {
      const jvm = jvms[index] as KafkaJvm
      return { nodeId: node.nodeId, port: node.port, controllerPort: node.controllerPort,
        dataDir: node.dataDir, pid: async () => jvmPid(jvm.child), output: jvm.output }
    }),
    stop,
  }
}

/**
 * A fresh Kafka cluster of `size` KRaft nodes on free loopback ports, each a combined
 * broker+controller, the quorum of all `size` voters (KIP-853: `controller.quorum.bootstrap
 * .servers` and `kafka-storage format --initial-controllers`), internal topics at Kafka's
 * default replication factor 3. Each JVM gets `heapMb` (default 384 MiB).
 */
export async function startKafkaCluster (size: number, options: KafkaStartOptions = {}):
  Promise<ReferenceKafkaCluster> {
  if (!Number.isInteger(size) || size < 1) throw new Error(`a cluster of ${size} nodes`)
  const libs = await fetchKafka()
  return withFreshPorts(async () => startClusterOnce(libs, size, options))
}
