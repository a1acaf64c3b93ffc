/**
 * The latency benchmark with librdkafka as the load generator (`node dist/bench/load.js latency
 * --client librdkafka --spawn`, issue #18; test/interop/librdkafka_latency.py on
 * confluent-kafka): a short run at a low rate, warm-up 0 so that the very first records are
 * measured, checked for its counts (every record sent was acknowledged and consumed) and for the
 * fields of its JSON and table. No timing is asserted.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../support/broker-process.js'
import { pythonWith, skipUnlessToolchain } from './client-harness.js'
import { STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'

const run = promisify(execFile)
const LOAD = path.join(REPO_ROOT, 'dist/bench/load.js')

describe('latency --client librdkafka', () => {
  let out: string
  before(async () => { out = await mkdtemp(path.join(os.tmpdir(), 'tributary-librdkafka-')) })
  after(async () => { await rm(out, { recursive: true, force: true }) })

  it('every record sent is acknowledged and consumed, and the result has its fields',
    { skip: skipUnlessToolchain('Python 3 with confluent-kafka',
      pythonWith('confluent_kafka') !== undefined) }, async () => {
      const { stdout } = await run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
        LOAD, 'latency', '--client', 'librdkafka',
        '--spawn', '--rate', '2000', '--duration', '2', '--warmup', '0', '--out', out],
      { cwd: REPO_ROOT, timeout: 360_000 })
      assert.match(stdout, /latency \(librdkafka\) @ 2\.0 k\/s/)
      const json = (await readdir(out)).find(file => file.endsWith('.json'))
      assert.ok(json !== undefined, 'a JSON result')
      const report = JSON.parse(await readFile(path.join(out, json), 'utf8'))
      const result = report.result.run
      assert.equal(result.client, 'librdkafka')
      assert.match(result.clientVersion, /^confluent-kafka \d+\.\d+\.\d+, librdkafka \d+\.\d+/)
      assert.ok(result.sent > 0, 'records were sent')
      assert.equal(result.failed, 0, `failed: ${result.firstError as string}`)
      assert.equal(result.acknowledged, result.sent, 'every record sent was acknowledged')
      assert.equal(result.received, result.acknowledged,
        'every acknowledged record was consumed, the first ones too')
      for (const field of ['produceLatencyMs', 'endToEndLatencyMs']) {
        for (const p of ['p50', 'p99', 'p999', 'max']) {
          assert.equal(typeof result[field][p], 'number', `${field}.${p}`)
        }
        assert.ok(result[field].max >= result[field].p50, field)
      }
      for (const field of ['targetRate', 'achievedRate', 'recordsPerBatch', 'skipped',
        'maxScheduleLagMs', 'generatorCpuSeconds']) {
        assert.equal(typeof result[field], 'number', field)
      }
      assert.ok(result.recordsPerBatch > 0, 'librdkafka\'s statistics gave records per batch')
      assert.equal(typeof result.saturated, 'boolean')
      assert.ok(result.spectrum.endToEnd.length > 0, 'the latency chart\'s spectrum')
      assert.ok(result.broker.traces > 0, 'the broker\'s stage breakdown over the window')
    })

  it('refuses other scenarios with one readable line', async () => {
    const failed = await run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
      LOAD, 'produce', '--client', 'librdkafka', '--spawn', '--out', out],
    { cwd: REPO_ROOT, timeout: 60_000 })
      .then(() => undefined, (error: { code: number, stderr: string }) => error)
    assert.ok(failed !== undefined, 'exits non-zero')
    assert.equal(failed.code, 1)
    assert.equal(failed.stderr.trim(),
      'bench: --client librdkafka runs the latency scenario at --rate on one broker')
  })
})
