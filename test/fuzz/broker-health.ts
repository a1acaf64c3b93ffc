/**
 * The checks the fuzzer runs after every batch of requests: the broker process is alive, its
 * resident memory (VmRSS from /proc/<pid>/status) is under the bound, and a well-behaved
 * client (the lean client in src/client/) still produces a record batch and reads back exactly
 * the records it wrote. Each check has a timeout, so a hung broker is a failure, not a hang.
 */
import { readFile } from 'node:fs/promises'
import type { ChildProcess } from 'node:child_process'
import { KafkaClient } from '../../src/client/client.js'
import type { KafkaConnection } from '../../src/client/connection.js'
import { CompressionCodec } from '../../src/records/batch-header.js'
import { decodeRecordBatch, splitBatches, type Record } from '../../src/records/batch.js'
import { buildRecordBatch, type RecordInput } from '../../src/records/builder.js'
import type { Prng } from './prng.js'
import { randomRecords } from './record-batches.js'

export const PROBE_TOPIC = 'fuzz-probe'

export interface ProbeBatch {
  baseOffset: number
  records: RecordInput[]
  codec: CompressionCodec
}
const PROBE_TIMEOUT_MS = 15_000

/** The resident set size of a process in bytes, or undefined once it is gone. */
export async function rssBytes (pid: number): Promise<number | undefined> {
  let status: string
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  return match === null ? undefined : Number(match[1]) * 1024
}

export function isAlive (child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** Rejects with `what` after `ms`; the timer never keeps the process alive. */
export async function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
    timer.unref()
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export class WellBehavedClient {
  readonly #client: KafkaClient
  readonly #baseTimestamp: number

  constructor (bootstrap: string, baseTimestamp: number) {
    this.#client = new KafkaClient({ bootstrap, clientId: 'fuzz-probe',
      requestTimeoutMs: 10_000, connectTimeoutMs: 5_000 })
    this.#baseTimestamp = baseTimestamp
  }

  /** A connection that has negotiated versions with the broker (ApiVersions). */
  async connection (): Promise<KafkaConnection> {
    return this.#client.any()
  }

  async createProbeTopic (): Promise<void> {
    await withTimeout(this.#client.createTopic(PROBE_TOPIC, { partitions: 1 }),
      PROBE_TIMEOUT_MS, 'creating the probe topic')
  }

  async createTopic (name: string, partitions: number): Promise<void> {
    await withTimeout(this.#client.createTopic(name, { partitions }), PROBE_TIMEOUT_MS,
      `creating ${name}`)
  }

  /** Produces a few records and reads them back; throws on any difference. */
  async probe (prng: Prng): Promise<void> {
    const records = randomRecords(prng, this.#baseTimestamp, prng.int(1, 4))
    const codec = prng.pick([CompressionCodec.None, CompressionCodec.Gzip,
      CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd])
    await withTimeout((async () => {
      const batch = await buildRecordBatch(records, { compression: codec })
      const { baseOffset } = await this.#client.produce(PROBE_TOPIC, 0, batch)
      this.written = { baseOffset, records, codec }
      await this.#readBack(this.written)
    })(), PROBE_TIMEOUT_MS, 'the well-behaved client\'s produce and read back')
  }

  /** The last batch probe() wrote, to be read again after a restart. */
  written: ProbeBatch | undefined

  /** After a restart: the partition ends where the last probe left it, which reads back. */
  async verifyKept (written: ProbeBatch | undefined): Promise<void> {
    if (written === undefined) return
    await withTimeout((async () => {
      const { offset } = await this.#client.listOffsets(PROBE_TOPIC, 0, -1)
      const expected = written.baseOffset + written.records.length
      if (offset !== expected) {
        throw new Error(`the probe partition ends at ${offset} after a restart, not ${expected}`)
      }
      await this.#readBack(written)
    })(), PROBE_TIMEOUT_MS, 'reading the probe records back after a restart')
  }

  async #readBack ({ baseOffset, records, codec }: ProbeBatch): Promise<void> {
    const fetched = await this.#client.fetch(PROBE_TOPIC, 0, baseOffset, { maxWaitMs: 0 })
    const bytes = fetched.records ?? Buffer.alloc(0)
    const read: Record[] = []
    for (const { position, size } of splitBatches(bytes)) {
      const decoded = await decodeRecordBatch(bytes.subarray(position, position + size))
      read.push(...decoded.records.filter(record => record.offset >= baseOffset))
    }
    for (let i = 0; i < records.length; i++) {
      const expected = records[i] as RecordInput
      const actual = read[i]
      const where = `record ${i} of ${records.length} at offset ${baseOffset + i} (codec ${codec})`
      if (actual === undefined) throw new Error(`${where} was not read back`)
      if (actual.offset !== baseOffset + i) {
        throw new Error(`${where} came back at offset ${actual.offset}`)
      }
      if (!sameBytes(actual.key, expected.key) || !sameBytes(actual.value, expected.value) ||
        actual.timestamp !== expected.timestamp || !sameHeaders(actual, expected)) {
        throw new Error(`${where} came back different`)
      }
    }
  }

  async close (): Promise<void> {
    await withTimeout(this.#client.close(), 5_000, 'closing the client').catch(() => undefined)
  }
}

function sameBytes (actual: Buffer | null, expected: RecordInput['key']): boolean {
  if (expected === null || expected === undefined) return actual === null
  return actual !== null && actual.equals(Buffer.from(expected))
}

function sameHeaders (actual: Record, expected: RecordInput): boolean {
  const headers = Array.isArray(expected.headers) ? expected.headers : []
  return actual.headers.length === headers.length && headers.every((header, i) => {
    const got = actual.headers[i]
    return got !== undefined && got.key === header.key && sameBytes(got.value, header.value)
  })
}
