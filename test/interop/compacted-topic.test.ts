/**
 * A compacted topic on a real broker, read by three clients: the broker's cleaner runs (fast
 * backoff, small segments), then our client, kafkajs 2.2 and kcat (librdkafka) read the topic
 * from the beginning and each sees increasing offsets and the last value of every key (the
 * tombstones of deleted keys as null), with fewer records than were written. After the broker
 * stops, `tributary dump-log --print-data` reads the cleaned segments and the segment files
 * pass the strict on-disk validator in its compacted mode.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { CompressionCodec } from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import {
  BIN, REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'
import { validatePartitionDir } from '../support/segment-validator.js'

const { Kafka, logLevel } = kafkajs
const TOPIC = 'compacted'
const KEYS = 40
const ROUNDS = 25
const kcatAvailable = spawnSync('kcat', ['-V']).status === 0

/** key → last value (null: a tombstone), as compaction must leave it readable. */
const expected = new Map<string, string | null>()

function kcat (args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`kcat timed out: ${stderr}`))
    }, 30_000)
    child.stdout.on('data', chunk => { stdout += chunk.toString() })
    child.stderr.on('data', chunk => { stderr += chunk.toString() })
    child.on('exit', code => {
      clearTimeout(timer)
      if (code === 0) resolve(stdout)
      else reject(new Error(`kcat exited ${String(code)}: ${stderr}`))
    })
  })
}

function lastValues (entries: { key: string, value: string | null }[]): Map<string, string | null> {
  const result = new Map<string, string | null>()
  for (const entry of entries) result.set(entry.key, entry.value)
  return result
}

describe('a compacted topic read by our client, kafkajs and kcat', () => {
  let broker: BrokerProcess
  let client: KafkaClient
  let written = 0

  before(async () => {
    broker = await startBroker({ env: {
      TRIBUTARY_INTERNAL_SEGMENT_BYTES: '16384',
      TRIBUTARY_LOG_CLEANER_BACKOFF_MS: '100',
      TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    } })
    client = new KafkaClient({ bootstrap: broker.bootstrap })
    await client.createTopic(TOPIC, { partitions: 1, configs: {
      'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.01',
    } })
    for (let round = 0; round < ROUNDS; round++) {
      const records = []
      for (let key = 0; key < KEYS; key++) {
        const deleted = round === ROUNDS - 1 && key % 8 === 0
        const value = deleted ? null : `value ${round}/${key} ${'x'.repeat(200)}`
        records.push({ key: `key-${key}`, value })
        expected.set(`key-${key}`, value)
      }
      const compression = round % 2 === 0 ? CompressionCodec.None : CompressionCodec.Gzip
      await client.produce(TOPIC, 0, buildRecordBatchSync(records, { compression }))
      written += records.length
    }
    // More batches of other keys, so that every round above is in an inactive segment.
    for (let i = 0; i < 40; i++) {
      await client.produce(TOPIC, 0, buildRecordBatchSync([{ key: `tail-${i}`,
        value: 'y'.repeat(500) }]))
      expected.set(`tail-${i}`, 'y'.repeat(500))
      written++
    }
    const deadline = Date.now() + 20_000
    for (;;) {
      const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
      if (/^tributary_log_cleaner_read_bytes_total [1-9]/m.test(text)) break
      assert.ok(Date.now() < deadline, 'the cleaner ran')
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  })

  after(async () => {
    await client.close()
    if (broker.child.exitCode === null) await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('our client sees increasing offsets and every key\'s last value', async () => {
    const entries: { key: string, value: string | null }[] = []
    let previous = -1
    for await (const record of readPartition(client, TOPIC, 0, 0)) {
      assert.ok(record.offset > previous, 'offsets increase')
      previous = record.offset
      entries.push({ key: record.key?.toString() ?? '', value: record.value?.toString() ?? null })
    }
    assert.ok(entries.length < written, `${entries.length} of ${written} records left`)
    assert.deepEqual(lastValues(entries), expected)
  })

  it('kafkajs reads the compacted topic from the beginning', async () => {
    const kafka = new Kafka({ clientId: 'compacted', brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: 'compacted-reader' })
    await consumer.connect()
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
    const entries: { key: string, value: string | null, offset: number }[] = []
    const end = (await client.listOffsets(TOPIC, 0, -1)).offset
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafkajs read ${entries.length}`)), 30_000)
      void consumer.run({
        eachMessage: async ({ message }) => {
          entries.push({ key: message.key?.toString() ?? '',
            value: message.value?.toString() ?? null, offset: Number(message.offset) })
          if (Number(message.offset) === end - 1) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
    })
    await consumer.disconnect()
    for (let i = 1; i < entries.length; i++) {
      assert.ok((entries[i]?.offset ?? 0) > (entries[i - 1]?.offset ?? 0), 'offsets increase')
    }
    assert.deepEqual(lastValues(entries), expected)
  })

  it('kcat reads the compacted topic from the beginning',
    { skip: !kcatAvailable && 'kcat is not installed' }, async () => {
      const output = await kcat(['-C', '-b', broker.bootstrap, '-t', TOPIC, '-o', 'beginning',
        '-e', '-q', '-Z', '-f', '%o\t%k\t%s\n'])
      const entries = output.split('\n').filter(line => line !== '').map(line => {
        const [offset, key, value] = line.split('\t')
        return { offset: Number(offset), key: key ?? '',
          value: value === 'NULL' ? null : value ?? '' }
      })
      assert.deepEqual(lastValues(entries), expected)
    })

  it('dump-log reads the cleaned segments and the files validate', async () => {
    assert.equal(await broker.stop(), 0)
    const partition = path.join(broker.dataDir, `${TOPIC}-0`)
    const logs = (await readdir(partition)).filter(name => name.endsWith('.log')).sort()
    let output = ''
    for (const log of logs) {
      const dumped = spawnSync(process.execPath, [BIN, 'dump-log', '--print-data',
        path.join(partition, log)], { cwd: REPO_ROOT, encoding: 'utf8' })
      assert.equal(dumped.status, 0, dumped.stderr)
      output += dumped.stdout
    }
    assert.doesNotMatch(output, /isValid: false/)
    // A cleaned group may keep only its last batch, emptied (count 0).
    assert.match(output, /count: 0 /)
    assert.match(output, /key: key-\d+ payload: value/)
    const validation = await validatePartitionDir(partition, { mode: 'strict', compacted: true })
    assert.deepEqual(validation.problems, [])
  })
})
