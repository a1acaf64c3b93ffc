/**
 * The reference Apache Kafka (test/reference/kafka.ts) as the differential tests and
 * `npm run bench -- compare-kafka` use it: fetched from Maven Central, started on free ports,
 * produced to and consumed from with our lean client and with kafkajs, stopped with its data
 * directory removed. Skipped (with the reason) where Java or Maven is missing; in CI (CI=true)
 * they are required and the suite fails instead.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { access, rm } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { buildRecordBatch } from '../../src/records/builder.js'
import { REPO_ROOT } from '../support/broker-process.js'
import { referenceMissing, startKafka, type ReferenceKafka } from './kafka.js'

const { Kafka, logLevel } = kafkajs

/** The pids of JVMs started on this data directory. */
function jvmPids (dataDir: string): Promise<number[]> {
  return new Promise(resolve => {
    execFile('pgrep', ['-f', `^java .*${dataDir}/server.properties`], (error, stdout) =>
      resolve(error === null ? stdout.trim().split('\n').map(Number) : []))
  })
}

async function jvmRunning (dataDir: string): Promise<boolean> {
  return (await jvmPids(dataDir)).length > 0
}

const missing = await referenceMissing()
const required = process.env.CI === 'true'
const skip = missing !== undefined && !required
  ? `the reference Kafka cannot run here: ${missing}` : false

describe('the reference Apache Kafka 4.1', { skip, timeout: 300_000 }, () => {
  let kafka: ReferenceKafka
  before(async () => {
    if (missing !== undefined) throw new Error(`CI needs Java and Maven: ${missing}`)
    kafka = await startKafka()
  })
  after(async () => { await kafka?.stop() })

  it('serves the lean client: topic creation, produce with acks=all, fetch back', async () => {
    const client = new KafkaClient({ bootstrap: kafka.bootstrap })
    try {
      const cluster = await client.describeCluster()
      assert.deepEqual(cluster.brokers.map(broker => [broker.nodeId, broker.port]),
        [[1, kafka.port]])
      await client.createTopic('lean', { partitions: 3 })
      const values = ['one', 'two', 'three', 'four', 'five']
      const first = await buildRecordBatch(values.slice(0, 3).map(value => ({
        key: Buffer.from(`k-${value}`), value: Buffer.from(value) })), { timestampMs: Date.now() })
      const second = await buildRecordBatch(values.slice(3).map(value => ({
        value: Buffer.from(value) })), { timestampMs: Date.now() })
      assert.equal((await client.produce('lean', 1, first, { acks: -1 })).baseOffset, 0)
      assert.equal((await client.produce('lean', 1, second, { acks: -1 })).baseOffset, 3)
      assert.equal((await client.listOffsets('lean', 1, -1)).offset, 5)
      const read: Array<[number, string]> = []
      for await (const record of readPartition(client, 'lean', 1, 0)) {
        read.push([record.offset, record.value?.toString() ?? ''])
      }
      assert.deepEqual(read, values.map((value, offset) => [offset, value]))
    } finally {
      await client.close()
    }
  })

  it('serves kafkajs: admin, producer and a consumer group', async () => {
    const client = new Kafka({ clientId: 'reference', brokers: [kafka.bootstrap],
      logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } })
    const admin = client.admin()
    const producer = client.producer()
    const consumer = client.consumer({ groupId: 'reference-group' })
    try {
      await admin.connect()
      assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 2 }],
        waitForLeaders: true }), true)
      await producer.connect()
      const sent = Array.from({ length: 10 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }))
      await producer.send({ topic: 'kjs', acks: -1, messages: sent })
      await consumer.connect()
      await consumer.subscribe({ topic: 'kjs', fromBeginning: true })
      const received = new Map<string, string>()
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(
          `the group read ${received.size} of ${sent.length} messages in 60 s`)), 60_000)
        void consumer.run({ eachMessage: async ({ message }) => {
          received.set(message.key?.toString() ?? '', message.value?.toString() ?? '')
          if (received.size === sent.length) { clearTimeout(timer); resolve() }
        } }).catch(reject)
      })
      assert.deepEqual([...received].sort(), sent.map(m => [m.key, m.value]).sort())
      const groups = await admin.describeGroups(['reference-group'])
      assert.equal(groups.groups[0]?.state, 'Stable')
    } finally {
      await consumer.disconnect().catch(() => undefined)
      await producer.disconnect().catch(() => undefined)
      await admin.disconnect().catch(() => undefined)
    }
  })

  it('stops: the JVM exits and its data directory is removed', async () => {
    const second = await startKafka()
    await second.stop()
    await assert.rejects(access(second.dataDir), { code: 'ENOENT' })
    const client = new KafkaClient({ bootstrap: second.bootstrap, connectTimeoutMs: 1000 })
    await assert.rejects(client.metadata([]))
    await client.close()
  })

  it('stops when the process that started it is killed without a chance to clean up',
    async () => {
      const cli = spawn(process.execPath,
        [path.join(REPO_ROOT, 'dist/test/reference/kafka-cli.js'), 'start'],
        { stdio: ['ignore', 'pipe', 'inherit'] })
      const dataDir = await new Promise<string>((resolve, reject) => {
        let printed = ''
        cli.stdout.on('data', (chunk: Buffer) => {
          printed += chunk.toString()
          const match = /data (\S+)\)/.exec(printed)
          if (match?.[1] !== undefined) resolve(match[1])
        })
        cli.once('exit', code => reject(new Error(`kafka.sh start exited with ${code}`)))
      })
      assert.equal(await jvmRunning(dataDir), true)
      cli.kill('SIGKILL')
      const deadline = Date.now() + 60_000
      while (await jvmRunning(dataDir) && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 250))
      }
      const orphans = await jvmPids(dataDir)
      for (const pid of orphans) process.kill(pid, 'SIGKILL') // a failed run leaves none behind
      await rm(dataDir, { recursive: true, force: true })
      assert.deepEqual(orphans, [], 'the JVM stopped with its parent')
    })
})
