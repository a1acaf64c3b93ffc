/**
 * The latency run with franz-go as the load generator (`npm run bench -- latency --client
 * franz-go`): the same open-loop run as rate-run.ts, made by the Go program's `latency` scenario
 * (test/interop/go/latency.go), a compiled client with no Node event loop, so a tail it also
 * sees is not the Node generator's own stall. The Go program produces at the rate round-robin
 * over the partitions (kgo batches per partition by linger and batch bytes, like the Node
 * generator, with idempotence off and the same bounds on requests in flight and on records
 * outstanding; records over the bound are skipped and counted), consumes in the same process,
 * and resets and reads the broker's /debug/latency at its own window's start and end.
 * Produce and end-to-end latency are one sample per record (the Node generator's produce
 * latency is one per request).
 */
import { buildGo, GO_BINARY } from '../../test/interop/go-build.js'
import { parseStepLines, runProgram } from '../../test/interop/client-harness.js'
import { SPECTRUM_PERCENTILES } from './chart.js'
import type { RateRunOptions, RateRunResult } from './rate-run.js'
import { recordsPerBatch } from './stamped-batches.js'

/** How long the Go consumer may take after the last send (rate-run.ts's DRAIN_MS). */
const DRAIN_MS = 2000

export async function runWithFranzGo (options: RateRunOptions, drainMs = DRAIN_MS):
Promise<RateRunResult> {
  await buildGo()
  // The Node generator's bounds: `inflight` requests per producer connection, each one batch.
  const lingerRecords = options.rate / options.partitions * options.lingerMs / 1000
  const batchRecords = Math.max(1, Math.min(
    recordsPerBatch(options.messageSize, options.batchBytes), Math.floor(lingerRecords)))
  const inflight = options.producers * options.inflight
  const args = ['-topic', options.topic, '-partitions', String(options.partitions),
    '-rate', String(options.rate), '-message-size', String(options.messageSize),
    '-duration', String(options.durationSeconds), '-warmup', String(options.warmupSeconds),
    '-acks', String(options.acks), '-linger-ms', String(options.lingerMs),
    '-batch-bytes', String(options.batchBytes), '-inflight', String(inflight),
    '-max-buffered', String(inflight * batchRecords), '-drain-ms', String(drainMs),
    '-percentiles', SPECTRUM_PERCENTILES.join(','),
    ...(options.debugUrl === undefined ? [] : ['-debug-url', options.debugUrl])]
  // The Go program ends itself within its run plus 30 s; this is the backstop.
  const timeoutMs = (options.warmupSeconds + options.durationSeconds + 60) * 1000 + drainMs
  const run = await runProgram(GO_BINARY, [options.bootstrap, 'latency', ...args], { timeoutMs })
  const steps = parseStepLines(run.stdout)
  const line = steps.get('latency/run')
  if (line === undefined || !line.ok) {
    throw new Error(`franz-go latency run failed (exit ${run.code}): ` +
      `${line?.error ?? run.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  }
  const { scenario: _scenario, step: _step, ok: _ok, ...result } = line
  const version = steps.get('client/versions')?.version
  return { ...result, ...(typeof version === 'string' ? { clientVersion: version } : {}),
    samples: [] } as unknown as RateRunResult
}
