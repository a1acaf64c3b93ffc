/**
 * What the client interop tests (Java kafka-clients, confluent-kafka, franz-go) share: a broker
 * behind the protocol recorder, running a client program that prints JSON lines, checking the
 * batches the broker stored, and writing each client's result file for the compatibility
 * matrix in docs/protocol.md.
 *
 * Toolchains: in CI (`CI` set, as .ci/run does) a missing toolchain fails the test; elsewhere
 * the suite is skipped with a one-line reason.
 *
 * Result files: test/interop/results/<client>.json (git ignores them; a copy of a run worth
 * keeping goes to results/published/). Each holds the client and its version, what the broker
 * advertised, every (API, version) the client sent, and the outcome of every subtest.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import {
  ATTRIBUTES_OFFSET, BASE_OFFSET_OFFSET, BATCH_LENGTH_OFFSET, COMPRESSION_CODEC_MASK,
  CompressionCodec, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD_BYTES, PRODUCER_ID_OFFSET,
} from '../../src/records/batch-header.js'
import {
  REPO_ROOT, removeDataDir, startBroker, type BrokerProcess, type StartOptions,
} from '../support/broker-process.js'
import { ProtocolRecorder, type ProtocolRecording } from '../support/protocol-recorder.js'

export const RESULTS_DIR = path.join(REPO_ROOT, 'test/interop/results')
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' &&
  process.env.CI !== 'false'

export const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const
export type Codec = typeof CODECS[number]
export const CODEC_IDS: Readonly<Record<Codec, CompressionCodec>> = {
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
}

/** True when `command args` runs and exits 0. */
export function commandWorks (command: string, args: string[],
  env?: NodeJS.ProcessEnv): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', env: env ?? process.env })
  return result.status === 0
}

/**
 * The first python3 that can import `module` (pyenv and venvs may shadow the system one), or
 * undefined.
 */
export function pythonWith (module: string): string | undefined {
  return ['python3', '/usr/bin/python3'].find(candidate =>
    spawnSync(candidate, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0)
}

/**
 * The `skip` option for a client's suite: false when its toolchain is present; a reason
 * outside CI; in CI a missing toolchain is a failure, so this throws at load time.
 */
export function skipUnlessToolchain (what: string, present: boolean): false | string {
  if (present) return false
  if (IN_CI) throw new Error(`${what} is required in CI (.ci/run installs it) but is missing`)
  return `${what} is not installed`
}

export interface ProgramRun { code: number | null, stdout: string, stderr: string }

/** Runs a program to its end (killed after timeoutMs), collecting its output. */
export function runProgram (command: string, args: string[], options: {
  cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs: number,
}): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} timed out after ${options.timeoutMs} ms; stderr: ` +
        stderr.slice(-4000)))
    }, options.timeoutMs)
    child.stdout.on('data', chunk => { stdout += chunk.toString() })
    child.stderr.on('data', chunk => { stderr += chunk.toString() })
    child.on('error', error => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('exit', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** One line a client program printed: which scenario and step, and whether it succeeded. */
export interface StepLine {
  scenario: string
  step: string
  ok: boolean
  error?: string
  [field: string]: unknown
}

/** The JSON lines of a program's output, by "scenario/step". Other lines are ignored. */
export function parseStepLines (stdout: string): Map<string, StepLine> {
  const steps = new Map<string, StepLine>()
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const parsed = JSON.parse(line) as StepLine
    steps.set(`${parsed.scenario}/${parsed.step}`, parsed)
  }
  return steps
}

/** The step's line, asserted present and successful. */
export function okStep<Fields = Record<string, unknown>> (steps: Map<string, StepLine>,
  key: string): StepLine & Fields {
  const step = steps.get(key)
  assert.ok(step !== undefined, `the client printed no line for ${key}`)
  assert.ok(step.ok, `${key} failed in the client: ${step.error ?? '(no error text)'}`)
  return step as StepLine & Fields
}

/** A broker whose advertised port is the recorder's, so every client connection is recorded. */
export interface RecordedBroker {
  broker: BrokerProcess
  recorder: ProtocolRecorder
  /** The address clients bootstrap from: the recorder. */
  bootstrap: string
  /** A client of our own, connected to the broker directly (not recorded). */
  client: KafkaClient
  stop: () => Promise<void>
}

/** The client id of the harness's own client, whose requests the recorder leaves out. */
export const HARNESS_CLIENT_ID = 'interop-harness'

export async function startRecordedBroker (options: StartOptions = {}): Promise<RecordedBroker> {
  const recorder = await ProtocolRecorder.start({ ignoreClientId: HARNESS_CLIENT_ID })
  const broker = await startBroker({
    ...options,
    env: { ...options.env, TRIBUTARY_ADVERTISED_PORT: String(recorder.port) },
  })
  recorder.forwardTo(broker.kafkaPort)
  const client = new KafkaClient({
    bootstrap: `127.0.0.1:${recorder.port}`, clientId: HARNESS_CLIENT_ID,
  })
  return {
    broker,
    recorder,
    bootstrap: `127.0.0.1:${recorder.port}`,
    client,
    stop: async () => {
      await client.close().catch(() => undefined)
      await recorder.close()
      await broker.stop()
      await removeDataDir(broker.dataDir)
    },
  }
}

export interface StoredBatch { codec: number, producerId: bigint }

/** The header facts of every batch stored in one partition (read through our own client). */
export async function storedBatches (client: KafkaClient, topic: string,
  partition: number): Promise<StoredBatch[]> {
  const batches: StoredBatch[] = []
  let offset = 0
  for (;;) {
    const fetched = await client.fetch(topic, partition, offset, { maxBytes: 8 << 20 })
    const records = fetched.records ?? Buffer.alloc(0)
    let at = 0
    let next = offset
    while (at + LOG_OVERHEAD_BYTES <= records.length) {
      const size = LOG_OVERHEAD_BYTES + records.readInt32BE(at + BATCH_LENGTH_OFFSET)
      if (at + size > records.length) break
      batches.push({
        codec: records.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK,
        producerId: records.readBigInt64BE(at + PRODUCER_ID_OFFSET),
      })
      next = Number(records.readBigInt64BE(at + BASE_OFFSET_OFFSET)) +
        records.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1
      at += size
    }
    if (next === offset || next >= Number(fetched.highWatermark)) return batches
    offset = next
  }
}

/** Acknowledged offsets per partition run 0, 1, 2, ... with no gap and no duplicate. */
export function assertContiguous (acks: readonly (readonly [number, number])[]): void {
  const byPartition = new Map<number, number[]>()
  for (const [partition, offset] of acks) {
    byPartition.set(partition, [...byPartition.get(partition) ?? [], offset])
  }
  for (const [partition, offsets] of byPartition) {
    const sorted = [...offsets].sort((a, b) => a - b)
    assert.deepEqual(sorted, sorted.map((_, i) => i), `offsets of partition ${partition}`)
  }
}

/** Every request the client sent was at a version the broker advertised. */
export function assertWithinAdvertised (recording: ProtocolRecording): void {
  assert.ok(recording.advertised.length > 0, 'the client never completed ApiVersions')
  assert.deepEqual(recording.beyondAdvertised.map(use => `${use.name} v${use.version}`), [],
    'requests above the advertised versions')
}

/** The broker advertised `apiKey` up to at least `version`. */
export function assertAdvertisedAtLeast (recording: ProtocolRecording, apiKey: number,
  version: number): void {
  const served = recording.advertised.find(api => api.apiKey === apiKey)
  assert.ok(served !== undefined, `the broker does not advertise API key ${apiKey}`)
  assert.ok(served.maxVersion >= version,
    `${served.name} advertised up to v${served.maxVersion}, not v${version}`)
}

/** One API's version range as a reference (Kafka's own tables) states it. */
export interface ApiRange { apiKey: number, name: string, minVersion: number, maxVersion: number }

/**
 * "Name vN < vM" for every API whose highest version in `actual` is below the reference's
 * maximum (APIs the reference does not list are left out).
 */
export function versionShortfalls (actual: readonly { apiKey: number, version: number }[],
  reference: readonly ApiRange[]): string[] {
  const highest = new Map<number, number>()
  for (const { apiKey, version } of actual) {
    highest.set(apiKey, Math.max(version, highest.get(apiKey) ?? -1))
  }
  return reference.filter(api => (highest.get(api.apiKey) ?? Infinity) < api.maxVersion)
    .map(api => `${api.name} v${highest.get(api.apiKey) ?? -1} < v${api.maxVersion}`)
}

export type Outcome = 'pass' | 'fail' | 'todo-pass' | 'todo-fail'

/**
 * Subtests whose outcome goes into the client's result file. `todo` marks a check that fails
 * today for a named missing protocol feature (issue #13); it still runs and asserts.
 */
export class OutcomeLog {
  readonly outcomes: { test: string, outcome: Outcome, todo?: string, error?: string }[] = []

  it (name: string, fn: () => void | Promise<void>, todo?: string): void {
    it(name, todo === undefined ? {} : { todo }, async () => {
      try {
        await fn()
        this.outcomes.push({ test: name, outcome: todo === undefined ? 'pass' : 'todo-pass' })
      } catch (error) {
        this.outcomes.push({
          test: name,
          outcome: todo === undefined ? 'fail' : 'todo-fail',
          ...todo === undefined ? {} : { todo },
          error: String((error as Error).message ?? error).split('\n')[0],
        })
        throw error
      }
    })
  }
}

export interface ClientResult {
  client: string
  language: string
  version: string
  /** The underlying protocol library where it differs (librdkafka for confluent-kafka). */
  library?: string
  recording: ProtocolRecording
  outcomes: OutcomeLog['outcomes']
  /** Apache Kafka 4.1's broker API ranges, from kafka-clients' own tables (Java test only). */
  kafkaBrokerApis?: ApiRange[]
  /** The highest version of each API the client can send, where it says (franz-go's kmsg). */
  clientMaxVersions?: { apiKey: number, name: string, maxVersion: number }[]
}

/** Writes test/interop/results/<file>.json. */
export async function writeClientResult (file: string, result: ClientResult): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true })
  const body = {
    ...result,
    generatedBy: `test/interop/${file}.test.ts`,
    generatedAt: new Date().toISOString(),
  }
  await writeFile(path.join(RESULTS_DIR, `${file}.json`), JSON.stringify(body, null, 2) + '\n')
}
