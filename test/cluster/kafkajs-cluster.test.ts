/**
 * kafkajs 2.2 against a three-broker cluster on etcd: it creates a topic through one broker,
 * produces to every partition's leader, and a consumer group (coordinated by the leader of its
 * __consumer_offsets partition) reads every message back and commits.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import {
  agreedView, eventually, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { etcdAvailable } from '../support/etcd-process.js'

const { Kafka, logLevel } = kafkajs
const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'
const MESSAGES = 300

describe('kafkajs against a cluster of three brokers', { skip }, () => {
  let cluster: TestCluster

  before(async () => {
    cluster = await startCluster(3)
  })
  after(async () => {
    await cluster?.stop()
  })

  it('produces to the leaders and consumes everything back in a group', async () => {
    // Ready brokers are registered; the controller lists them within one election look.
    await eventually('three live brokers', () => agreedView(cluster, [1, 2, 3]))
    const kafka = new Kafka({
      clientId: 'cluster', logLevel: logLevel.NOTHING,
      brokers: [`127.0.0.1:${cluster.brokers.get(2)?.kafkaPort}`],
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
    })
    const admin = kafka.admin()
    await admin.connect()
    try {
      assert.equal(await admin.createTopics({
        topics: [{ topic: 'spread', numPartitions: 6, replicationFactor: 1 }],
        waitForLeaders: true,
      }), true)
      const described = await admin.fetchTopicMetadata({ topics: ['spread'] })
      const leaders = new Set(described.topics[0]?.partitions.map(p => p.leader))
      assert.equal(leaders.size, 3, 'the partitions are led by all three brokers')
    } finally {
      await admin.disconnect()
    }
    const producer = kafka.producer()
    await producer.connect()
    try {
      const messages = Array.from({ length: MESSAGES }, (_, i) => ({
        key: `k${i}`, value: `v${i}`,
      }))
      await producer.send({ topic: 'spread', messages })
    } finally {
      await producer.disconnect()
    }
    const consumer = kafka.consumer({ groupId: 'cluster-readers' })
    await consumer.connect()
    const seen = new Set<string>()
    try {
      await consumer.subscribe({ topic: 'spread', fromBeginning: true })
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${MESSAGES}`)),
          60_000)
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.add(String(message.value))
            if (seen.size === MESSAGES) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
      })
    } finally {
      await consumer.disconnect()
    }
    assert.equal(seen.size, MESSAGES)
  })
})
