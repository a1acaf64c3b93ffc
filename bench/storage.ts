/**
 * Storage engine throughput (issue #2): append with fsync-before-ack (group commit) and with
 * the relaxed flush policy, next to the raw limit measured in the same run: the same bytes,
 * from the same buffers, written with plain positional writes to the same number of files, with
 * the same number of fdatasyncs the group commit did. Then reads from the page cache.
 * Each case alternates engine and raw runs BENCH_REPEAT times and reports medians, because a
 * shared VM disk varies by 2-3x from one second to the next.
 * Run: npx tsc -p . && node dist/bench/storage.js
 * Options (env): BENCH_MB (data per run, default 256), BENCH_INFLIGHT (64),
 * BENCH_PARTITIONS (4), BENCH_REPEAT (3)
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildRecordBatchSync } from '../src/records/builder.js'
import { LogManager } from '../src/storage/log-manager.js'
import type { PartitionLog } from '../src/storage/partition-log.js'

const TOTAL_BYTES = Number(process.env.BENCH_MB ?? 256) * 1024 * 1024
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 64)
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4)
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3)

interface Case { recordBytes: number, batchBytes: number }
interface EngineRun { seconds: number, rounds: number, readBytes: number, readSeconds: number }

function makeBatch (recordBytes: number, batchBytes: number): { bytes: Buffer, records: number } {
  const records = Math.max(1, Math.floor(batchBytes / (recordBytes + 10)))
  const bytes = buildRecordBatchSync(Array.from({ length: records }, (_, i) => ({
    value: Buffer.alloc(recordBytes, i % 256),
  })))
  return { bytes, records }
}

/** One buffer per in-flight append, reused once its append resolves (as a broker would). */
function buffersFor (template: Buffer): Buffer[] {
  return Array.from({ length: INFLIGHT }, () => Buffer.from(template))
}

async function appendAll (logs: PartitionLog[], buffers: Buffer[], records: number,
  count: number): Promise<number> {
  const started = performance.now()
  let next = 0
  const worker = async (buffer: Buffer): Promise<void> => {
    while (next < count) {
      const n = next++
      const log = logs[n % logs.length] as PartitionLog
      await log.append(buffer, { leaderEpoch: 0, recordsCount: records, maxTimestamp: 1 })
    }
  }
  await Promise.all(buffers.map(worker))
  return (performance.now() - started) / 1000
}

/** The same bytes from the same buffers in as many files, with `syncs` fdatasyncs spread evenly. */
async function rawLimit (directory: string, buffers: Buffer[], count: number,
  syncs: number): Promise<number> {
  const handles = await Promise.all(Array.from({ length: PARTITIONS }, (_, i) =>
    open(path.join(directory, `raw-${i}.bin`), 'w')))
  const positions = new Array<number>(PARTITIONS).fill(0)
  const every = Math.max(1, Math.round(count / Math.max(syncs, 1)))
  const started = performance.now()
  for (let n = 0; n < count; n++) {
    const i = n % PARTITIONS
    const handle = handles[i] as (typeof handles)[number]
    const buffer = buffers[n % buffers.length] as Buffer
    await handle.write(buffer, 0, buffer.length, positions[i])
    positions[i] = (positions[i] as number) + buffer.length
    if ((n + 1) % every === 0) await Promise.all(handles.map(h => h.datasync()))
  }
  await Promise.all(handles.map(h => h.datasync()))
  const seconds = (performance.now() - started) / 1000
  await Promise.all(handles.map(h => h.close()))
  return seconds
}

async function readAll (logs: PartitionLog[]): Promise<{ bytes: number, seconds: number }> {
  const started = performance.now()
  let bytes = 0
  for (const log of logs) {
    let offset = 0
    while (offset < log.logEndOffset) {
      const { records } = await log.read(offset, 1024 * 1024)
      if (records.length === 0) break
      bytes += records.length
      let position = 0
      let last = offset
      while (position + 61 <= records.length) {
        last = Number(records.readBigInt64BE(position)) + records.readInt32BE(position + 23)
        position += records.readInt32BE(position + 8) + 12
      }
      offset = last + 1
    }
  }
  return { bytes, seconds: (performance.now() - started) / 1000 }
}

async function engineRun (directory: string, fsyncBeforeAck: boolean, buffers: Buffer[],
  records: number, count: number): Promise<EngineRun> {
  const manager = await LogManager.open({ dataDir: directory, nodeId: 1,
    defaultConfig: { fsyncBeforeAck, segmentBytes: 256 * 1024 * 1024 } })
  const logs = await Promise.all(Array.from({ length: PARTITIONS }, (_, i) =>
    manager.getOrCreateLog('bench', i)))
  const seconds = await appendAll(logs, buffers, records, count)
  const rounds = manager.flushStats.rounds
  const read = await readAll(logs)
  await manager.close()
  return { seconds, rounds, readBytes: read.bytes, readSeconds: read.seconds }
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const mb = (bytes: number, seconds: number): string => (bytes / seconds / 1e6).toFixed(0)

async function runCase (benchCase: Case, fsyncBeforeAck: boolean): Promise<void> {
  const { bytes: template, records } = makeBatch(benchCase.recordBytes, benchCase.batchBytes)
  const buffers = buffersFor(template)
  const count = Math.max(PARTITIONS, Math.floor(TOTAL_BYTES / template.length))
  const totalBytes = count * template.length
  const engine: EngineRun[] = []
  const raw: number[] = []
  for (let repeat = 0; repeat < REPEAT; repeat++) {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'tributary-bench-'))
    try {
      const run = await engineRun(directory, fsyncBeforeAck, buffers, records, count)
      engine.push(run)
      raw.push(await rawLimit(directory, buffers, count, fsyncBeforeAck ? run.rounds : 1))
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  }
  const seconds = median(engine.map(run => run.seconds))
  const rawSeconds = median(raw)
  const readSeconds = median(engine.map(run => run.readSeconds / run.readBytes)) * totalBytes
  const rounds = median(engine.map(run => run.rounds))
  console.log([
    `${benchCase.recordBytes} B records, ${(template.length / 1024).toFixed(0)} KiB batches`
      .padEnd(32),
    (fsyncBeforeAck ? 'group commit' : 'relaxed').padEnd(12),
    `${mb(totalBytes, seconds).padStart(5)} MB/s`,
    `${(count * records / seconds / 1e6).toFixed(2).padStart(6)} M rec/s`,
    `raw ${mb(totalBytes, rawSeconds).padStart(5)} MB/s`,
    `ratio ${(rawSeconds / seconds).toFixed(2)}`,
    `rounds ${rounds} (${(count / Math.max(rounds, 1)).toFixed(1)} batches each)`,
    `read ${mb(totalBytes, readSeconds)} MB/s`,
  ].join('  '))
}

console.log(`storage bench: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ` +
  `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
  `${TOTAL_BYTES / 2 ** 20} MiB per run, median of ${REPEAT}, ${INFLIGHT} appends in flight ` +
  `over ${PARTITIONS} partitions, data in ${os.tmpdir()}`)
for (const recordBytes of [100, 1024]) {
  for (const batchBytes of [16 * 1024, 256 * 1024, 1024 * 1024]) {
    for (const fsyncBeforeAck of [true, false]) {
      await runCase({ recordBytes, batchBytes }, fsyncBeforeAck)
    }
  }
}
