/**
 * The latency run with librdkafka as the load generator (`npm run bench -- latency --client
 * librdkafka`): the same open-loop run as rate-run.ts, made by test/interop/librdkafka_latency.py
 * with confluent-kafka for Python, whose client is Kafka's C library. librdkafka batches,
 * sends and handles acknowledgements in its own threads, so a tail it also sees is not the Node
 * generator's event loop. It produces at the rate round-robin over the partitions (librdkafka
 * batches per partition by `linger.ms` and `batch.size`, idempotence off, the Node generator's
 * bound on requests in flight per connection and a bound on records queued; a record over it
 * is skipped and counted), consumes from the end offsets in a thread of the same process, and
 * resets and reads the broker's /debug/latency at its own window's start and end. Produce and
 * end-to-end latency are one sample per record, as franz-go's.
 */
import path from 'node:path'
import { REPO_ROOT } from '../../test/support/broker-process.js'
import { parseStepLines, pythonWith, runProgram } from '../../test/interop/client-harness.js'
import { SPECTRUM_PERCENTILES } from './chart.js'
import type { RateRunOptions, RateRunResult } from './rate-run.js'
import { recordsPerBatch } from './stamped-batches.js'

const SCRIPT = path.join(REPO_ROOT, 'test/interop/librdkafka_latency.py')

/** How long the consumer may take after the last send (rate-run.ts's DRAIN_MS). */
const DRAIN_MS = 2000

/** The python3 that has confluent-kafka, or undefined (.ci/run installs it). */
export function librdkafkaPython (): string | undefined {
  return pythonWith('confluent_kafka')
}

export async function runWithLibrdkafka (options: RateRunOptions, drainMs = DRAIN_MS):
Promise<RateRunResult> {
  const python = librdkafkaPython()
  if (python === undefined) {
    throw new Error('--client librdkafka needs python3 with confluent-kafka')
  }
  const lingerRecords = options.rate / options.partitions * options.lingerMs / 1000
  const batchRecords = Math.max(1, Math.min(
    recordsPerBatch(options.messageSize, options.batchBytes), Math.floor(lingerRecords)))
  const inflight = options.producers * options.inflight
  const args = [SCRIPT, options.bootstrap, '--topic', options.topic,
    '--partitions', String(options.partitions), '--rate', String(options.rate),
    '--message-size', String(options.messageSize), '--duration', String(options.durationSeconds),
    '--warmup', String(options.warmupSeconds), '--acks', String(options.acks),
    '--linger-ms', String(options.lingerMs), '--batch-bytes', String(options.batchBytes),
    '--inflight', String(options.inflight), '--max-buffered', String(inflight * batchRecords),
    '--drain-ms', String(drainMs), '--percentiles', SPECTRUM_PERCENTILES.join(','),
    ...(options.debugUrl === undefined ? [] : ['--debug-url', options.debugUrl])]
  const timeoutMs = (options.warmupSeconds + options.durationSeconds + 60) * 1000 + drainMs
  const run = await runProgram(python, args, { timeoutMs })
  const steps = parseStepLines(run.stdout)
  const line = steps.get('latency/run')
  if (line === undefined || !line.ok) {
    throw new Error(`librdkafka latency run failed (exit ${run.code}): ` +
      `${line?.error ?? run.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  }
  const { scenario: _scenario, step: _step, ok: _ok, ...result } = line
  const version = steps.get('client/versions')?.version
  return { ...result, ...(typeof version === 'string' ? { clientVersion: version } : {}),
    samples: [] } as unknown as RateRunResult
}
