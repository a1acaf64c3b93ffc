/**
 * The latency benchmark with another client as the load generator (`node dist/bench/load.js
 * latency --client franz-go|librdkafka --spawn`, issue #18): the Go program's franz-go run and
 * test/interop/librdkafka_latency.py on confluent-kafka. For each, a short run at a low rate,
 * warm-up 0 so that the very first records are measured, checked for its counts (every record
 * sent was acknowledged and consumed) and for the fields of its JSON and table; and the one
 * line it fails with when it cannot run. No timing is asserted.
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
import { goToolchainWorks } from './go-build.js'
import { STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'

const run = promisify(execFile)
const LOAD = path.join(REPO_ROOT, 'dist/bench/load.js')

interface Generator {
  client: 'franz-go' | 'librdkafka'
  toolchain: string
  present: () => boolean
  version: RegExp
  /** What only this generator reports. */
  check: (result: Record<string, any>) => void
}

const GENERATORS: Generator[] = [{
  client: 'franz-go',
  toolchain: 'Go',
  present: goToolchainWorks,
  version: /^v\d+\.\d+\.\d+/,
  check: result => {
    assert.equal(typeof result.goGc.count, 'number', 'the Go runtime\'s GC pauses')
    assert.equal(typeof result.produceRequestMs.p99, 'number', 'kgo\'s per-request view')
  },
}, {
  client: 'librdkafka',
  toolchain: 'Python 3 with confluent-kafka',
  present: () => pythonWith('confluent_kafka') !== undefined,
  version: /^confluent-kafka \d+\.\d+\.\d+, librdkafka \d+\.\d+/,
  check: result => {
    assert.ok(result.recordsPerBatch > 0, 'librdkafka\'s statistics gave records per batch')
  },
}]

async function bench (args: string[], out: string, env = process.env):
Promise<{ stdout: string, stderr: string }> {
  return run(process.execPath, [...STEADY_LOAD_NODE_FLAGS, LOAD, ...args, '--out', out],
    { cwd: REPO_ROOT, timeout: 360_000, env })
}

for (const generator of GENERATORS) {
  describe(`latency --client ${generator.client}`, () => {
    let out: string
    before(async () => {
      out = await mkdtemp(path.join(os.tmpdir(), `tributary-${generator.client}-`))
    })
    after(async () => { await rm(out, { recursive: true, force: true }) })

    it('every record sent is acknowledged and consumed, and the result has its fields',
      { skip: skipUnlessToolchain(generator.toolchain, generator.present()) }, async () => {
        const { stdout } = await bench(['latency', '--client', generator.client, '--spawn',
          '--rate', '2000', '--duration', '2', '--warmup', '0'], out)
        assert.ok(stdout.includes(`latency (${generator.client}) @ 2.0 k/s`), stdout)
        const json = (await readdir(out)).find(file => file.endsWith('.json'))
        assert.ok(json !== undefined, 'a JSON result')
        const report = JSON.parse(await readFile(path.join(out, json), 'utf8'))
        const result = report.result.run
        assert.equal(result.client, generator.client)
        assert.match(result.clientVersion, generator.version)
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
        assert.equal(typeof result.saturated, 'boolean')
        assert.ok(result.spectrum.endToEnd.length > 0, 'the latency chart\'s spectrum')
        assert.ok(result.broker.traces > 0, 'the broker\'s stage breakdown over the window')
        generator.check(result)
      })

    it('refuses other scenarios with one readable line', async () => {
      const failed = await bench(['produce', '--client', generator.client, '--spawn'], out)
        .then(() => undefined, (error: { code: number, stderr: string }) => error)
      assert.ok(failed !== undefined, 'exits non-zero')
      assert.equal(failed.code, 1)
      assert.equal(failed.stderr.trim(), `bench: --client ${generator.client} runs the latency ` +
        'scenario at --rate on one broker')
    })
  })
}

describe('latency --client franz-go without Go', () => {
  let out: string
  before(async () => { out = await mkdtemp(path.join(os.tmpdir(), 'tributary-franz-go-')) })
  after(async () => { await rm(out, { recursive: true, force: true }) })

  it('fails with one readable line', async () => {
    const failed = await bench(['latency', '--client', 'franz-go', '--spawn', '--rate', '2000'],
      out, { ...process.env, PATH: '/nonexistent' })
      .then(() => undefined, (error: { code: number, stderr: string }) => error)
    assert.ok(failed !== undefined, 'exits non-zero')
    assert.equal(failed.code, 1)
    assert.equal(failed.stderr.trim(),
      'bench: --client franz-go needs Go (the go command) to build test/interop/go')
  })
})
