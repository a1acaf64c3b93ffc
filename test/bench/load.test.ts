/**
 * The load generator as users run it (`node dist/bench/load.js <scenario> --spawn`), shortened
 * to a second per phase: every scenario exits 0 and writes its JSON and charts, and the
 * counts in them hold up: consume reads back every produced message, the latency run's
 * consumer receives every acknowledged record, and the produce run sees the broker's group
 * commits and measures the raw limit. Speed is never asserted (bench/README.md has numbers).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { recordsPerBatch } from '../../bench/lib/stamped-batches.js'
import { BIN, REPO_ROOT } from '../support/broker-process.js'
import { etcdAvailable } from '../support/etcd-process.js'
import { STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'

const run = promisify(execFile)
const LOAD = path.join(REPO_ROOT, 'dist/bench/load.js')
const SHORT = ['--duration', '1', '--warmup', '0.5']

let out: string
before(async () => { out = await mkdtemp(path.join(os.tmpdir(), 'tributary-bench-')) })
after(async () => { await rm(out, { recursive: true, force: true }) })

/** Runs one scenario into its own directory; returns the parsed JSON and the files written. */
async function bench (name: string, args: string[]): Promise<{ report: any, files: string[] }> {
  const directory = path.join(out, name)
  const { stdout } = await run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
    LOAD, ...args, '--out', directory],
    { cwd: REPO_ROOT, timeout: 120_000 })
  assert.match(stdout, /machine: \d+ × /, 'the machine is reported')
  const files = (await readdir(directory)).sort()
  const json = files.find(file => file.endsWith('.json'))
  assert.ok(json !== undefined, `a JSON result in ${files.join(', ')}`)
  for (const svg of files.filter(file => file.endsWith('.svg'))) {
    assert.match(await readFile(path.join(directory, svg), 'utf8'), /^<svg[^>]*>[\s\S]*<\/svg>\s*$/)
  }
  return { report: JSON.parse(await readFile(path.join(directory, json), 'utf8')), files }
}

describe('npm run bench', { concurrency: false }, () => {
  it('produce --spawn: group commits and the raw limit from the broker\'s counters', async () => {
    const { report, files } = await bench('produce', ['produce', '--spawn', ...SHORT])
    const result = report.result
    assert.ok(result.messages > 0 && result.messagesPerSecond > 0)
    assert.ok(result.groupCommit.fsyncs > 0 && result.groupCommit.bytes >= result.bytes)
    assert.ok(result.rawLimit.ratio > 0)
    assert.ok(result.requestLatencyMs.p99 >= result.requestLatencyMs.p50)
    assert.equal(report.machine.cpus, os.cpus().length)
    assert.ok(report.noise.fsyncP50Ms > 0 && report.noise.timerDelayMaxMs >= 0,
      'the machine\'s noise before the run is recorded')
    assert.equal(files.filter(file => file.endsWith('.svg')).length, 2, 'throughput and latency')
  })

  it('produce --messages stops at whole batches within the count', async () => {
    const { report } = await bench('count', ['produce', '--spawn', '--no-raw-limit',
      '--messages', '5000', '--duration', '30'])
    const perBatch = recordsPerBatch(100, 16384)
    assert.equal(report.result.messages, Math.floor(5000 / perBatch) * perBatch)
  })

  it('consume --spawn reads back every produced message', async () => {
    const { report } = await bench('consume', ['consume', '--spawn', '--no-raw-limit', ...SHORT])
    assert.equal(report.result.consume.messages, report.result.produce.messages)
    assert.ok(report.result.consumeOverProduce > 0)
  })

  it('latency --spawn: the consumer receives every acknowledged record', async () => {
    const { report } = await bench('latency', ['latency', '--spawn', '--rate', '20000',
      ...SHORT])
    const runResult = report.result.run
    assert.ok(runResult.acknowledged > 0)
    assert.equal(runResult.recordsPerBatch, 25, '--linger-ms 5 at 20 k/s over 4 partitions')
    assert.equal(runResult.received, runResult.acknowledged)
    assert.equal(runResult.failed, 0)
    assert.ok(runResult.endToEndLatencyMs.max >= runResult.endToEndLatencyMs.p50)
    // The breakdown beside the table: the broker's stages of sampled batches, and both
    // processes' stalls over the measured window.
    assert.ok(runResult.broker.traces > 0, 'sampled batches (--sample-rate 0.05 by default)')
    assert.ok(runResult.broker.stagesMs['received → acknowledged (broker total)'].count > 0)
    assert.ok(runResult.broker.broker.eventLoopDelayMs.max >= 0)
    assert.ok(runResult.generator.eventLoopDelayMs.max >= 0 && runResult.generator.windowMs > 0)
  })

  it('ab: paired runs of two builds, with medians and ratios', async () => {
    const { report } = await bench('ab', ['ab', '--baseline-bin', BIN, '--pairs', '1',
      '--rate', '20000', '--no-raw-limit', ...SHORT])
    const runs = report.result.runs
    assert.deepEqual(runs.map((r: any) => r.variant), ['baseline', 'this build'])
    for (const run of runs) assert.ok(run.peak.messagesPerSecond > 0 && run.run.acknowledged > 0)
    assert.equal(report.result.summary.length, 2)
  })

  it('sweep --spawn runs a latency phase per fraction of the peak', async () => {
    const { report } = await bench('sweep', ['sweep', '--spawn', '--no-raw-limit',
      '--fractions', '0.1,0.2', ...SHORT])
    assert.deepEqual(report.result.runs.map((r: { fraction: number }) => r.fraction), [0.1, 0.2])
    const peak = report.result.peak.messagesPerSecond
    assert.ok(Math.abs(report.result.runs[0].targetRate - 0.1 * peak) <= 1)
  })

  it('produce --client kafkajs is labelled as such', async () => {
    const { report } = await bench('kafkajs', ['produce', '--spawn', '--no-raw-limit',
      '--client', 'kafkajs', ...SHORT])
    assert.equal(report.result.client, 'kafkajs')
    assert.ok(report.result.messages > 0)
  })

  it('replication: RF=1 and RF=3 on a cluster it starts, each acknowledged end to end',
    { skip: etcdAvailable() ? false : 'etcd is not on PATH' }, async () => {
      const { report } = await bench('replication', ['replication', '--rate', '2000',
        ...SHORT])
      const phases = report.result.phases
      assert.deepEqual(phases.map((p: any) => p.replicationFactor), [1, 3])
      for (const phase of phases) {
        assert.ok(phase.peak.messages > 0)
        assert.ok(phase.latency.acknowledged > 0, 'the latency run acknowledged records')
        // Every acknowledged record arrives. More may: the generator's producer is not
        // idempotent, so a produce that timed out, or was retried after NOT_LEADER_OR_FOLLOWER
        // on a loaded machine, can still be written (at least once, as with Kafka).
        assert.ok(phase.latency.received >= phase.latency.acknowledged,
          `received ${phase.latency.received} < acknowledged ${phase.latency.acknowledged}`)
        assert.deepEqual(Object.keys(phase.peakCpuSeconds),
          ['broker 1', 'broker 2', 'broker 3', 'etcd'], 'CPU of each broker and of etcd')
      }
    })

  it('a broker that cannot be reached is one line and exit code 1', async () => {
    await assert.rejects(run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
      LOAD, 'produce', '--bootstrap', '127.0.0.1:1',
      '--out', path.join(out, 'refused')], { cwd: REPO_ROOT, timeout: 60_000 }),
    (error: { code: number, stderr: string }) => {
      assert.equal(error.code, 1)
      assert.match(error.stderr, /^bench: .*ECONNREFUSED.*\n$/)
      return true
    })
  })
})
