/**
 * `npm run bench -- compaction`: the log cleaner against the disk it runs on (issue #16).
 *
 * 1. The disk: writes and fsyncs a file as large as the dirty log, then reads it back: the
 *    read + write bandwidth compaction is measured against.
 * 2. A compacted log of N keys × M updates (one record a batch, a tenth of the keys deleted by a
 *    tombstone at the end) in about eight segments; one full cleaning: bytes read (the map pass and
 *    the copy pass) and written, seconds, throughput, space before and after.
 * 3. Produce latency: appends to another log (fsync before ack) for a while with no cleaning,
 *    then again while the cleaner works on a fresh dirty log: p50/p99 of each.
 *
 * Runs the storage engine in-process (no broker, no network), so the numbers are the
 * engine's. Options: --keys N (10000) --updates M (20) --value-bytes B (100)
 * --latency-seconds S (3) --out DIR (bench/results). Writes `compaction-<time>.json`.
 */
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildRecordBatchSync } from '../src/records/builder.js'
import { LogManager } from '../src/storage/log-manager.js'
import type { PartitionLog } from '../src/storage/partition-log.js'

interface CompactionOptions {
  keys: number
  updates: number
  valueBytes: number
  latencySeconds: number
  out: string
}

function parse (argv: readonly string[]): CompactionOptions {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(`--${name}`)
    if (at < 0) return fallback
    const number = Number(argv[at + 1])
    if (!Number.isFinite(number) || number <= 0) {
      throw new Error(`--${name} takes a positive number, not ${String(argv[at + 1])}`)
    }
    return number
  }
  const outAt = argv.indexOf('--out')
  return {
    keys: value('keys', 10_000),
    updates: value('updates', 20),
    valueBytes: value('value-bytes', 100),
    latencySeconds: value('latency-seconds', 3),
    out: outAt >= 0 ? String(argv[outAt + 1]) : 'bench/results',
  }
}

/** Sequential write + fsync, then read, of `bytes`: MB/s each. */
async function diskBandwidth (directory: string, bytes: number):
Promise<{ writeMBps: number, readMBps: number }> {
  const file = path.join(directory, 'bandwidth.tmp')
  const chunk = Buffer.alloc(1 << 20, 7)
  const handle = await open(file, 'w+')
  try {
    let started = performance.now()
    for (let written = 0; written < bytes; written += chunk.length) {
      await handle.write(chunk, 0, chunk.length, written)
    }
    await handle.sync()
    const writeSeconds = (performance.now() - started) / 1000
    started = performance.now()
    for (let read = 0; read < bytes; read += chunk.length) {
      await handle.read(chunk, 0, chunk.length, read)
    }
    const readSeconds = (performance.now() - started) / 1000
    return { writeMBps: bytes / 1e6 / writeSeconds, readMBps: bytes / 1e6 / readSeconds }
  } finally {
    await handle.close()
    await rm(file, { force: true })
  }
}

async function fillCompacted (log: PartitionLog, options: CompactionOptions): Promise<void> {
  const value = 'v'.repeat(options.valueBytes)
  const pending: Promise<unknown>[] = []
  for (let update = 0; update < options.updates; update++) {
    for (let key = 0; key < options.keys; key++) {
      const last = update === options.updates - 1
      const record = { key: `key-${key}`, value: last && key % 10 === 0 ? null : value }
      pending.push(log.append(buildRecordBatchSync([record]), { leaderEpoch: 0,
        recordsCount: 1, maxTimestamp: Date.now() }))
      if (pending.length >= 256) await Promise.all(pending.splice(0))
    }
  }
  await Promise.all(pending)
  // A last segment of other keys, so that every update above is in an inactive segment.
  await log.append(buildRecordBatchSync([{ key: 'tail', value: 'x' }]),
    { leaderEpoch: 0, recordsCount: 1, maxTimestamp: Date.now() })
}

/** Appends one small batch at a time for `seconds`; per-append latencies in ms, sorted. */
async function produceLatencies (log: PartitionLog, seconds: number,
  meanwhile?: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = []
  const until = performance.now() + seconds * 1000
  const background = meanwhile?.()
  while (performance.now() < until) {
    const started = performance.now()
    await log.append(buildRecordBatchSync([{ key: 'p', value: 'x'.repeat(100) }]),
      { leaderEpoch: 0, recordsCount: 1, maxTimestamp: Date.now() })
    latencies.push(performance.now() - started)
  }
  await background
  return latencies.sort((a, b) => a - b)
}

/** About eight segments of dirty data, 64 KiB to 16 MiB each (a record costs ~80 B + value). */
function segmentBytesFor (options: CompactionOptions): number {
  const estimate = options.keys * options.updates * (options.valueBytes + 80)
  return Math.min(16 << 20, Math.max(64 << 10, Math.floor(estimate / 8)))
}

function percentile (sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

export async function runCompactionBench (argv: readonly string[]): Promise<void> {
  const options = parse(argv)
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-bench-compaction-'))
  try {
    const manager = await LogManager.open({ dataDir, nodeId: 1,
      defaultConfig: { segmentBytes: segmentBytesFor(options), cleanupPolicy: ['compact'],
        minCleanableDirtyRatio: 0, fsyncBeforeAck: false, fileDeleteDelayMs: 0 },
      cleaner: { enable: false } })
    const dirty = await manager.getOrCreateLog('compacted', 0)
    await fillCompacted(dirty, options)
    const before = dirty.sizeBytes
    const disk = await diskBandwidth(dataDir, before)
    const started = performance.now()
    const cleaned = await manager.cleaner.cleanOnce()
    const seconds = (performance.now() - started) / 1000
    if (cleaned === undefined) throw new Error('the cleaner found nothing to clean')
    const { result } = cleaned
    const after = dirty.sizeBytes
    const throughputMBps = (result.bytesRead + result.bytesWritten) / 1e6 / seconds
    // Latency: a second dirty log gives the cleaner work while the producer runs.
    const second = await manager.getOrCreateLog('compacted', 1)
    await fillCompacted(second, options)
    const probe = await manager.getOrCreateLog('probe', 0)
    probe.updateConfig({ fsyncBeforeAck: true, cleanupPolicy: ['delete'] })
    const idle = await produceLatencies(probe, options.latencySeconds)
    const busy = await produceLatencies(probe, options.latencySeconds, async () => {
      while (await manager.cleaner.cleanOnce() !== undefined) { /* until nothing is dirty */ }
    })
    await manager.close()
    const report = {
      scenario: 'compaction',
      options,
      disk,
      cleaning: { ...result, seconds, throughputMBps, sizeBefore: before, sizeAfter: after },
      produceLatencyMs: {
        withoutCleaner: { p50: percentile(idle, 0.5), p99: percentile(idle, 0.99),
          count: idle.length },
        withCleaner: { p50: percentile(busy, 0.5), p99: percentile(busy, 0.99),
          count: busy.length },
      },
    }
    await mkdir(options.out, { recursive: true })
    const file = path.join(options.out,
      `compaction-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
    await writeFile(file, JSON.stringify(report, null, 2) + '\n')
    console.log(`compaction: ${options.keys} keys × ${options.updates} updates, ` +
      `${options.valueBytes} B values`)
    console.log(`disk: write ${disk.writeMBps.toFixed(0)} MB/s, read ` +
      `${disk.readMBps.toFixed(0)} MB/s`)
    console.log(`cleaning: ${(result.bytesRead / 1e6).toFixed(1)} MB read, ` +
      `${(result.bytesWritten / 1e6).toFixed(1)} MB written in ${seconds.toFixed(2)} s = ` +
      `${throughputMBps.toFixed(1)} MB/s; space ${(before / 1e6).toFixed(1)} MB → ` +
      `${(report.cleaning.sizeAfter / 1e6).toFixed(1)} MB; ${result.recordsRemoved} records ` +
      `removed (${result.tombstonesRemoved} tombstones)`)
    const { withoutCleaner: off, withCleaner: on } = report.produceLatencyMs
    console.log(`produce latency (fsync before ack): p50 ${off.p50.toFixed(2)} ms, p99 ` +
      `${off.p99.toFixed(2)} ms without the cleaner; p50 ${on.p50.toFixed(2)} ms, p99 ` +
      `${on.p99.toFixed(2)} ms with it`)
    console.log(`results: ${file}`)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}
