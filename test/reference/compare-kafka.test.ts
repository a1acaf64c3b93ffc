/**
 * `npm run bench -- compare-kafka` as users run it (`node dist/bench/load.js compare-kafka`),
 * shortened to a second per phase: it exits 0, measures all four brokers (Apache Kafka with
 * its defaults and with log.flush.interval.messages=1, Tributary relaxed and default), each
 * reads back its data set (the first 100,000 records), each latency run's consumer receives
 * every acknowledged record, and the printed table carries both Tributary/Kafka ratios.
 * `npm run bench -- replication --compare-kafka` likewise, at two seconds per phase: all four
 * three-node clusters measured at RF=1 and RF=3, every latency run's records received, the
 * CPU of every broker read, and both pairs' tables printed.
 * Speed is never asserted (bench/README.md has the numbers). Skipped like the reference Kafka
 * smoke test where Java or Maven is missing, and required in CI.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { READ_BACK_MESSAGES } from '../../bench/lib/compare-kafka.js'
import { REPO_ROOT } from '../support/broker-process.js'
import { etcdAvailable } from '../support/etcd-process.js'
import { referenceMissing } from './kafka.js'
import { STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'

const run = promisify(execFile)
const missing = await referenceMissing()
const skip = missing !== undefined && process.env.CI !== 'true'
  ? `the reference Kafka cannot run here: ${missing}` : false

describe('npm run bench -- compare-kafka', { skip, timeout: 600_000 }, () => {
  let out: string
  before(async () => {
    if (missing !== undefined) throw new Error(`CI needs Java and Maven: ${missing}`)
    out = await mkdtemp(path.join(os.tmpdir(), 'tributary-compare-'))
  })
  after(async () => { if (out !== undefined) await rm(out, { recursive: true, force: true }) })

  it('runs produce, consume and latency on all four brokers and prints the ratios', async () => {
    const { stdout } = await run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
      path.join(REPO_ROOT, 'dist/bench/load.js'),
      'compare-kafka', '--duration', '1', '--warmup', '0.5', '--rate', '5000', '--out', out],
    { cwd: REPO_ROOT, timeout: 540_000 })
    const json = (await readdir(out)).find(file => file.endsWith('.json'))
    assert.ok(json !== undefined, 'a JSON result')
    const report = JSON.parse(await readFile(path.join(out, json), 'utf8'))
    const targets = report.result.targets as
      Array<{ key: string, produce: any, consume: any, latency: any }>
    assert.deepEqual(targets.map(target => target.key),
      ['kafka', 'tributary-relaxed', 'kafka-flush', 'tributary'])
    for (const { key, produce, consume, latency } of targets) {
      assert.ok(produce.messages > 0, `${key}: produced`)
      // The data set is the first 100,000 records, or all of them, in whole batches.
      assert.ok(consume.dataSetMessages >= Math.min(READ_BACK_MESSAGES, produce.messages) &&
        consume.dataSetMessages <= produce.messages, `${key}: the data set`)
      assert.ok(consume.messages > 0 && consume.passes > 0, `${key}: read back`)
      assert.equal(latency.targetRate, 5000, `${key}: the same rate for every broker`)
      assert.ok(latency.acknowledged > 0, `${key}: latency run acknowledged`)
      assert.equal(latency.received, latency.acknowledged, `${key}: all received`)
    }
    assert.match(stdout, /\| produce msg\/s \|/)
    assert.match(stdout, /Tributary\/Kafka \(no fsync before ack\)/)
    assert.match(stdout, /Tributary\/Kafka \(fsync before ack\)/)
    assert.match(stdout, /\| consume msg\/s( \| [\d.]+ [kM]?){2} \| \d+\.\d\d \|/,
      'a ratio per pair')
  })
})

describe('npm run bench -- replication --compare-kafka', { skip, timeout: 600_000 }, () => {
  let out: string
  before(async () => {
    if (missing !== undefined) throw new Error(`CI needs Java and Maven: ${missing}`)
    out = await mkdtemp(path.join(os.tmpdir(), 'tributary-replication-compare-'))
  })
  after(async () => { if (out !== undefined) await rm(out, { recursive: true, force: true }) })

  // Twelve broker processes and four clusters for two minutes: a benchmark's smoke test, kept
  // out of the default run (TRIBUTARY_SLOW_BENCH_TESTS=1 runs it); the three-node Kafka itself
  // is tested in kafka-cluster.test.ts, and the replication scenario in test/bench/load.test.ts.
  const slow = process.env.TRIBUTARY_SLOW_BENCH_TESTS === '1' ? false
    : 'four three-node clusters: set TRIBUTARY_SLOW_BENCH_TESTS=1'
  it('measures RF=1 and RF=3 on four three-node clusters and prints both ratios',
    { skip: etcdAvailable() ? slow : 'etcd is not on PATH' }, async () => {
      const { stdout } = await run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
        path.join(REPO_ROOT, 'dist/bench/load.js'),
        'replication', '--compare-kafka', '--duration', '2', '--warmup', '1', '--rate', '1000',
        '--out', out], { cwd: REPO_ROOT, timeout: 540_000 })
      const json = (await readdir(out)).find(file => file.endsWith('.json'))
      assert.ok(json !== undefined, 'a JSON result')
      const report = JSON.parse(await readFile(path.join(out, json), 'utf8'))
      const clusters = report.result.clusters as Array<{ key: string, phases: any[] }>
      assert.deepEqual(clusters.map(cluster => cluster.key),
        ['kafka', 'tributary-relaxed', 'kafka-flush', 'tributary'])
      for (const { key, phases } of clusters) {
        assert.deepEqual(phases.map(phase => phase.replicationFactor), [1, 3], key)
        for (const phase of phases) {
          const at = `${key} RF=${phase.replicationFactor}`
          assert.ok(phase.peak.messages > 0, `${at}: produced`)
          assert.equal(phase.latency.targetRate, 1000, `${at}: the same rate for every cluster`)
          assert.ok(phase.latency.acknowledged > 0, `${at}: latency run acknowledged`)
          assert.equal(phase.latency.received, phase.latency.acknowledged, `${at}: all received`)
          const brokers = Object.keys(phase.peakCpuSeconds).filter(label =>
            label.startsWith('broker'))
          assert.deepEqual(brokers, ['broker 1', 'broker 2', 'broker 3'], `${at}: CPU per broker`)
          assert.ok(brokers.reduce((sum, label) => sum + phase.peakCpuSeconds[label], 0) > 0,
            `${at}: the brokers' CPU was read`)
        }
      }
      assert.match(stdout, /no fsync before ack .* T\/K RF=1 +T\/K RF=3/)
      assert.match(stdout, /fsync before ack .* T\/K RF=1 +T\/K RF=3/)
      assert.match(stdout, /peak msg\/s \(acks=all\)( +[\d.]+ [kM]?){2} +\d+\.\d\d/)
    })
})

describe('npm run bench -- replication --compare-kafka, options', () => {
  for (const args of [['produce', '--compare-kafka'],
    ['replication', '--compare-kafka', '--bootstrap', '127.0.0.1:9092']]) {
    it(`refuses ${args.join(' ')}`, async () => {
      await assert.rejects(run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
        path.join(REPO_ROOT, 'dist/bench/load.js'),
        ...args], { cwd: REPO_ROOT, timeout: 30_000 }),
      (error: { code?: number, stderr?: string }) => error.code === 1 &&
        /--compare-kafka is a replication option/.test(error.stderr ?? ''))
    })
  }
})

describe('npm run bench -- compare-kafka, options', () => {
  for (const flag of [['--spawn'], ['--profile'], ['--bootstrap', '127.0.0.1:9092']]) {
    it(`refuses ${flag[0]}: it starts its own brokers`, async () => {
      await assert.rejects(run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
        path.join(REPO_ROOT, 'dist/bench/load.js'),
        'compare-kafka', ...flag], { cwd: REPO_ROOT, timeout: 30_000 }),
      (error: { code?: number, stderr?: string }) => error.code === 1 &&
        /compare-kafka starts its own brokers/.test(error.stderr ?? ''))
    })
  }
})
