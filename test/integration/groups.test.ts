/**
 * Consumer groups with real clients (issue #5): three kafkajs members share a 6-partition
 * topic, take over when one leaves, read everything, and a new member resumes from committed
 * offsets, also after a broker restart; kcat -G (librdkafka's balanced consumer) joins
 * alongside kafkajs; a static kcat member restarting keeps its partitions without a rebalance.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import kafkajs, { type Consumer } from 'kafkajs'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const { Kafka, logLevel, PartitionAssigners } = kafkajs
const kcatAvailable = spawnSync('kcat', ['-V']).status === 0
const ENV = {
  TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '5',
}
/** librdkafka calls the round-robin assignor "roundrobin"; kafkajs's is the same algorithm. */
const roundrobin = (config: Parameters<typeof PartitionAssigners.roundRobin>[0]) =>
  ({ ...PartitionAssigners.roundRobin(config), name: 'roundrobin' })

let broker: BrokerProcess

function kafka (): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'groups', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
}

async function waitFor (condition: () => boolean, what: string, timeoutMs = 30_000):
Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

interface Member { consumer: Consumer, assigned: number[], seen: string[] }

async function member (groupId: string, topic: string, seen: string[]): Promise<Member> {
  const consumer = kafka().consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 300,
    partitionAssigners: [roundrobin] })
  const self: Member = { consumer, assigned: [], seen }
  consumer.on(consumer.events.GROUP_JOIN, event => {
    self.assigned = event.payload.memberAssignment[topic] ?? []
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => {
    seen.push(message.value?.toString() ?? '')
  } })
  return self
}

async function produce (topic: string, from: number, count: number): Promise<void> {
  const producer = kafka().producer()
  await producer.connect()
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({
    key: String(from + i), value: String(from + i) })) })
  await producer.disconnect()
}

describe('consumer groups', () => {
  before(async () => { broker = await startBroker({ env: ENV }) })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('shares partitions, rebalances on leave, and resumes from committed offsets', async () => {
    const admin = kafka().admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: 'shared', numPartitions: 6 }] })
    await produce('shared', 0, 300)
    const seen: string[] = []
    const members = [await member('g1', 'shared', seen), await member('g1', 'shared', seen),
      await member('g1', 'shared', seen)]
    await waitFor(() => members.every(m => m.assigned.length === 2) &&
      new Set(members.flatMap(m => m.assigned)).size === 6, 'three members with 2 each')
    await waitFor(() => new Set(seen).size === 300, 'every message read')
    // One member leaves: the other two take over all six partitions.
    await (members.pop() as Member).consumer.disconnect()
    await waitFor(() => members.every(m => m.assigned.length === 3) &&
      new Set(members.flatMap(m => m.assigned)).size === 6, 'two members with 3 each')
    await produce('shared', 300, 60)
    await waitFor(() => new Set(seen).size === 360, 'messages after the rebalance read')
    for (const m of members) await m.consumer.disconnect()
    const committed = await admin.fetchOffsets({ groupId: 'g1', topics: ['shared'] })
    const total = committed[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0)
    assert.equal(total, 360, 'all offsets committed')
    await admin.disconnect()

    // The broker restarts; committed offsets survive, and a new member reads only new records.
    const port = broker.kafkaPort
    assert.equal(await broker.stop(), 0)
    broker = await startBroker({ dataDir: broker.dataDir, kafkaPort: port, env: ENV })
    const again = kafka().admin()
    await again.connect()
    assert.deepEqual(await again.fetchOffsets({ groupId: 'g1', topics: ['shared'] }), committed)
    await again.disconnect()
    await produce('shared', 360, 30)
    const fresh: string[] = []
    const late = await member('g1', 'shared', fresh)
    await waitFor(() => fresh.length >= 30, 'the new records')
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.deepEqual([...new Set(fresh)].map(Number).sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => 360 + i), 'no committed record read again')
    await late.consumer.disconnect()
  })

  it('lets kcat -G join a group alongside a kafkajs member',
    { skip: !kcatAvailable && 'kcat is not installed' }, async () => {
      const admin = kafka().admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: 'mixed', numPartitions: 4 }] })
      const seen: string[] = []
      const js = await member('g2', 'mixed', seen)
      await waitFor(() => js.assigned.length === 4, 'kafkajs alone owns all partitions')
      const kcat = spawn('kcat', ['-b', broker.bootstrap, '-G', 'g2', '-X',
        'partition.assignment.strategy=roundrobin', '-o', 'beginning', '-u', 'mixed'],
      { stdio: ['ignore', 'pipe', 'pipe'] })
      let kcatOut = ''
      kcat.stdout.on('data', chunk => { kcatOut += chunk.toString() })
      try {
        await waitFor(() => js.assigned.length === 2, 'kafkajs gives half to kcat')
        const described = await admin.describeGroups(['g2'])
        assert.equal(described.groups[0]?.members.length, 2)
        assert.equal(described.groups[0]?.protocol, 'roundrobin')
        await produce('mixed', 0, 200)
        await waitFor(() => new Set([...seen, ...kcatOut.split('\n').filter(Boolean)]).size ===
          200, 'both members read their partitions')
        assert.ok(kcatOut.split('\n').filter(Boolean).length > 0, 'kcat read some')
        assert.ok(seen.length > 0, 'kafkajs read some')
      } finally {
        kcat.kill('SIGTERM')
        await js.consumer.disconnect()
        await admin.disconnect()
      }
    })

  it('gives a restarted static member its partitions back without a rebalance',
    { skip: !kcatAvailable && 'kcat is not installed' }, async () => {
      const admin = kafka().admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic: 'static', numPartitions: 4 }] })
      const start = (instance: string): { child: ChildProcess, log: () => string } => {
        const child = spawn('kcat', ['-b', broker.bootstrap, '-G', 'g3', '-X',
          `group.instance.id=${instance}`, '-X', 'session.timeout.ms=20000', 'static'],
        { stdio: ['ignore', 'pipe', 'pipe'] })
        let log = ''
        child.stderr?.on('data', chunk => { log += chunk.toString() })
        return { child, log: () => log }
      }
      const a = start('member-a')
      const b = start('member-b')
      try {
        const rebalances = (log: string): number => (log.match(/rebalanced/g) ?? []).length
        await waitFor(() => /assigned: static/.test(b.log()) && /assigned: static/.test(a.log()) &&
          (a.log().match(/assigned: static \[\d\], static \[\d\]/g) ?? []).length > 0,
        'both static members assigned')
        const before = rebalances(a.log())
        // Member b stops abruptly (no LeaveGroup for static members) and comes back.
        b.child.kill('SIGKILL')
        const b2 = start('member-b')
        try {
          await waitFor(() => /assigned: static/.test(b2.log()), 'the restarted member assigned')
          await new Promise(resolve => setTimeout(resolve, 1000))
          assert.equal(rebalances(a.log()), before, 'member a saw no rebalance')
          const after = await admin.describeGroups(['g3'])
          assert.equal(after.groups[0]?.members.length, 2)
          assert.equal(after.groups[0]?.state, 'Stable')
          assert.match(b2.log(), /assigned: static \[\d\], static \[\d\]/,
            'the restarted member got two partitions back')
        } finally {
          b2.child.kill('SIGTERM')
        }
      } finally {
        a.child.kill('SIGTERM')
        b.child.kill('SIGKILL')
        await admin.disconnect()
      }
    })
})
