/**
 * A real Apache Kafka broker, the reference Tributary is compared with (issue #13): Kafka 4.1
 * in KRaft combined mode (one node that is both broker and controller), run from jars that
 * Maven fetches from Maven Central into a cache folder outside the repository, on free
 * loopback ports with a temporary data directory that is removed on stop.
 *
 *   fetchKafka()       the jars (test/reference/pom.xml's runtime classpath), fetched once into
 *                      $XDG_CACHE_HOME/tributary/kafka-<version>-<pom hash>/ (default ~/.cache)
 *   startKafka(...)    kafka-storage format --standalone, then kafka.Kafka server.properties;
 *                      resolves once the broker lists itself in Metadata
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

/** A single-node KRaft broker+controller on loopback, as Kafka's config/server.properties. */
function serverProperties (dataDir: string, port: number, controllerPort: number,
  config: Record<string, string>): string {
  const base: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': path.join(dataDir, 'data'),
    // One node: the internal topics cannot have more replicas than there are brokers.
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
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

/** kafka-storage format: a fresh cluster id, and this node as the only voter (KIP-853). */
async function format (libs: string, dataDir: string): Promise<void> {
  const clusterId = newClusterId()
  const formatted = await run('java', [...javaArgs(libs, dataDir, 256), 'kafka.tools.StorageTool',
    'format', '-t', clusterId, '-c', path.join(dataDir, 'server.properties'), '--standalone'],
  FORMAT_TIMEOUT_MS)
  if (formatted.code !== 0) {
    throw new Error(`kafka-storage format failed (exit ${formatted.code}):\n${formatted.output}`)
  }
}

/** Resolves once Metadata lists the broker (it is registered and unfenced). */
async function waitReady (bootstrap: string, exited: Promise<unknown>, timeoutMs: number,
  output: () => string): Promise<void> {
  let gone = false
  void exited.then(() => { gone = true })
  const deadline = Date.now() + timeoutMs
  while (!gone) {
    const client = new KafkaClient({ bootstrap, requestTimeoutMs: 2000, connectTimeoutMs: 2000 })
    try {
      if ((await client.metadata([])).brokers.length > 0) return
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

async function startOnce (libs: string, options: KafkaStartOptions): Promise<ReferenceKafka> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reference-kafka-'))
  const [port, controllerPort] = [await freePort(), await freePort()] as [number, number]
  await writeFile(path.join(dataDir, 'server.properties'),
    serverProperties(dataDir, port, controllerPort, options.config ?? {}))
  await writeFile(path.join(dataDir, 'log4j2.properties'), LOG4J2)
  try {
    await format(libs, dataDir)
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
  const child = spawn('bash', ['-c', WATCHDOG, 'reference-kafka', 'java',
    ...javaArgs(libs, dataDir, options.heapMb ?? 512), 'kafka.Kafka',
    path.join(dataDir, 'server.properties')],
  { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  live.add(child)
  let output = ''
  const keep = (chunk: Buffer): void => { output = tail(output + chunk.toString()) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise<void>(resolve => {
    child.once('close', () => {
      live.delete(child)
      child.stdin?.destroy() // lets the watchdog's reader go if the JVM ended by itself
      resolve()
    })
    child.once('error', error => { keep(Buffer.from(String(error))); live.delete(child); resolve() })
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end()
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }
    await rm(dataDir, { recursive: true, force: true })
  }
  const bootstrap = `127.0.0.1:${port}`
  try {
    await waitReady(bootstrap, exited, options.readyTimeoutMs ?? 90_000, () => output)
  } catch (error) {
    await stop()
    throw error
  }
  return { bootstrap, port, controllerPort, dataDir, output: () => output, stop }
}

/** Fetches the jars if needed and starts a fresh single-node Kafka on free loopback ports. */
export async function startKafka (options: KafkaStartOptions = {}): Promise<ReferenceKafka> {
  const libs = await fetchKafka()
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(libs, options)
    } catch (error) {
      // Another process took a port between our probe and the JVM's bind: new ports.
      const clash = error instanceof Error && /Address already in use/.test(error.message)
      if (!clash || attempt >= 3) throw error
    }
  }
}
