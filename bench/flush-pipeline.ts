/**
 * Adaptive pipelining of group-commit rounds (issue #18), A/B in one process: the storage
 * engine alone (no network, no load generator), so the comparison is the flusher's and not
 * the scheduling of three processes on a shared VM. Per pair, in alternating order, each mode
 * (`coalesce`: pipelineBytesMax 0, rounds always wait for the whole previous round, the design
 * before; `adaptive`: the default threshold) gets a fresh LogManager and
 *  - a closed-loop peak: BENCH_INFLIGHT (32) appends of 16 KiB batches in flight over
 *    BENCH_PARTITIONS (4) logs for BENCH_MB (64) MiB: MB/s and bytes per fdatasync;
 *  - an open-loop run: BENCH_RATE (1000) batches/s spread over the logs for BENCH_SECONDS (3):
 *    append → acknowledged latency p50/p99 (fsync before ack).
 * Reports each run and the medians over BENCH_PAIRS (3) pairs.
 * Run: npx tsc -p . && node dist/bench/flush-pipeline.js
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildRecordBatchSync } from '../src/records/builder.js'
import { PIPELINE_BYTES_MAX } from '../src/storage/flusher.js'
import { LogManager } from '../src/storage/log-manager.js'
import type { PartitionLog } from '../src/storage/partition-log.js'

const TOTAL_BYTES = Number(process.env.BENCH_MB ?? 64) * 1024 * 1024
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 32)
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4)
const RATE = Number(process.env.BENCH_RATE ?? 1000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3)

const RECORDS = 151
const TEMPLATE = buildRecordBatchSync(Array.from({ length: RECORDS }, (_, i) => ({
  value: Buffer.alloc(100, i % 256),
})))

interface Run { mode: string, peakMBps: number, bytesPerFsync: number, p50: number, p99: number,
  appends: number }

const MODES = [
  { mode: 'coalesce', pipelineBytesMax: 0 },
  { mode: 'adaptive', pipelineBytesMax: PIPELINE_BYTES_MAX },
]

async function append (log: PartitionLog, buffer: Buffer): Promise<void> {
  await log.append(buffer, { leaderEpoch: 0, recordsCount: RECORDS, maxTimestamp: 1 })
}

async function peak (logs: PartitionLog[]): Promise<number> {
  const count = Math.ceil(TOTAL_BYTES / TEMPLATE.length)
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    const buffer = Buffer.from(TEMPLATE)
    while (next < count) await append(logs[next++ % logs.length] as PartitionLog, buffer)
  }))
  return count * TEMPLATE.length / 1e6 / ((performance.now() - started) / 1000)
}

/** Open loop: batches fall due every 1/RATE s whatever the log answers. */
async function openLoop (logs: PartitionLog[]): Promise<number[]> {
  const latencies: number[] = []
  const inflight: Array<Promise<void>> = []
  const started = performance.now()
  let sent = 0
  await new Promise<void>(resolve => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000
      if (elapsed >= SECONDS) {
        clearInterval(timer)
        resolve()
        return
      }
      // Due batches, stamped with when they fell due (lateness of this timer counts).
      while (sent < Math.floor(elapsed * RATE)) {
        const due = started + sent / RATE * 1000
        const log = logs[sent++ % logs.length] as PartitionLog
        inflight.push(append(log, Buffer.from(TEMPLATE))
          .then(() => { latencies.push(performance.now() - due) }))
      }
    }, 1)
  })
  await Promise.all(inflight)
  return latencies.sort((a, b) => a - b)
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
}

async function runMode (mode: string, pipelineBytesMax: number): Promise<Run> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'flush-pipeline-'))
  try {
    const manager = await LogManager.open({ dataDir: directory, nodeId: 1, pipelineBytesMax })
    const logs = await Promise.all(Array.from({ length: PARTITIONS }, (_, i) =>
      manager.getOrCreateLog('bench', i)))
    const before = manager.flushStats
    const peakMBps = await peak(logs)
    const after = manager.flushStats
    const bytesPerFsync = (after.bytes - before.bytes) / Math.max(1, after.fsyncs - before.fsyncs)
    const latencies = await openLoop(logs)
    await manager.close()
    return { mode, peakMBps, bytesPerFsync, p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99), appends: latencies.length }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

async function main (): Promise<void> {
  console.log(`flush-pipeline: ${PARTITIONS} logs, ${TEMPLATE.length} B batches, peak with ` +
    `${INFLIGHT} in flight over ${TOTAL_BYTES / 1048576} MiB, open loop ${RATE} batches/s ` +
    `for ${SECONDS} s; load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')}`)
  const runs: Run[] = []
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? MODES : [...MODES].reverse()
    for (const { mode, pipelineBytesMax } of order) {
      const run = await runMode(mode, pipelineBytesMax)
      runs.push(run)
      console.log(`#${pair + 1} ${mode.padEnd(9)} peak ${run.peakMBps.toFixed(1)} MB/s, ` +
        `${Math.round(run.bytesPerFsync)} B/fdatasync; open loop p50 ${run.p50.toFixed(2)} ms, ` +
        `p99 ${run.p99.toFixed(2)} ms (${run.appends} appends)`)
    }
  }
  const summary = MODES.map(({ mode }) => {
    const mine = runs.filter(run => run.mode === mode)
    return { mode, peak: median(mine.map(r => r.peakMBps)), p50: median(mine.map(r => r.p50)),
      p99: median(mine.map(r => r.p99)) }
  })
  const [a, b] = summary as [typeof summary[0], typeof summary[0]]
  for (const s of summary) {
    console.log(`median ${s.mode.padEnd(9)} peak ${s.peak.toFixed(1)} MB/s, p50 ` +
      `${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`)
  }
  console.log(`adaptive/coalesce: peak ${(b.peak / a.peak).toFixed(2)}, p50 ` +
    `${(b.p50 / a.p50).toFixed(2)}, p99 ${(b.p99 / a.p99).toFixed(2)}; load average ` +
    `${os.loadavg().map(l => l.toFixed(1)).join(' ')}`)
}

await main()
