/**
 * Whole-broker crash recovery (issue #6, short CI version): a kafkajs idempotent producer with
 * acks=all writes numbered messages while the broker is killed with SIGKILL at seeded random
 * moments and restarted on the same port and data directory. Afterwards every acknowledged
 * message is present exactly once and in order per partition, and every stored batch has a
 * valid CRC and contiguous offsets. Set CRASH_SEED to replay, CRASH_CYCLES for more cycles.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { batchCrcMatches } from '../../src/records/batch-header.js'
import { splitBatches } from '../../src/records/batch.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { seededRandom } from '../support/seeded-random.js'

const { Kafka, logLevel } = kafkajs
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 20)
const PARTITIONS = 3


describe(`broker crash recovery (CRASH_SEED=${SEED})`, () => {
  it(`keeps every acknowledged message exactly once across ${CYCLES} SIGKILLs`, async () => {
    const random = seededRandom(SEED)
    let broker: BrokerProcess = await startBroker()
    const dataDir = broker.dataDir
    const port = broker.kafkaPort
    const kafka = new Kafka({
      clientId: 'crash', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING,
      retry: { retries: 50, initialRetryTime: 50, maxRetryTime: 500 },
    })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: PARTITIONS }] })
    await admin.disconnect()
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const acked: number[][] = Array.from({ length: PARTITIONS }, () => [])
    const next = new Array<number>(PARTITIONS).fill(0)
    let producing = true
    let failures = 0
    const loop = (async () => {
      for (let round = 0; producing; round++) {
        const partition = round % PARTITIONS
        const first = next[partition] as number
        const values = Array.from({ length: 20 }, (_, i) => first + i)
        next[partition] = first + values.length
        try {
          await producer.send({ topic: 'crash', acks: -1, messages: values.map(value => ({
            partition, value: String(value),
          })) })
          acked[partition]?.push(...values)
        } catch {
          failures++ // indefinite: these values may or may not be stored, but at most once
        }
      }
    })()
    const recoveryMs: number[] = []
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await new Promise(resolve => setTimeout(resolve, 50 + Math.floor(random() * 300)))
        await broker.kill()
        const started = Date.now()
        broker = await startBroker({ dataDir, kafkaPort: port })
        recoveryMs.push(Date.now() - started)
      }
      await new Promise(resolve => setTimeout(resolve, 300))
    } finally {
      producing = false
      await loop
      await producer.disconnect().catch(() => undefined)
    }
    const client = new KafkaClient({ bootstrap: broker.bootstrap })
    try {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const stored: number[] = []
        for await (const record of readPartition(client, 'crash', partition, 0)) {
          stored.push(Number(record.value?.toString()))
        }
        for (let i = 1; i < stored.length; i++) {
          assert.ok((stored[i] as number) > (stored[i - 1] as number),
            `partition ${partition}: ${stored[i]} after ${stored[i - 1]} (duplicate or reorder)`)
        }
        const present = new Set(stored)
        for (const value of acked[partition] ?? []) {
          assert.ok(present.has(value), `partition ${partition}: acknowledged ${value} lost`)
        }
        const end = (await client.listOffsets('crash', partition, -1)).offset
        let offset = 0
        while (offset < end) {
          const fetched = await client.fetch('crash', partition, offset, { maxBytes: 1 << 20 })
          const records = fetched.records ?? Buffer.alloc(0)
          for (const { position, size } of splitBatches(records)) {
            assert.equal(Number(records.readBigInt64BE(position)), offset, 'contiguous offsets')
            assert.ok(batchCrcMatches(records, position, size), `CRC of batch at ${offset}`)
            offset += records.readInt32BE(position + 23) + 1
          }
        }
      }
    } finally {
      await client.close()
      await broker.stop()
      await removeDataDir(dataDir)
    }
    const total = acked.reduce((sum, values) => sum + values.length, 0)
    recoveryMs.sort((a, b) => a - b)
    console.log(`${CYCLES} cycles: ${total} acknowledged messages, ${failures} failed sends, ` +
      `restart-to-ready median ${recoveryMs[recoveryMs.length >> 1]} ms, ` +
      `max ${recoveryMs[recoveryMs.length - 1]} ms`)
    assert.ok(total > 0)
  })
})
