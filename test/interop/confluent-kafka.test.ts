/**
 * confluent-kafka for Python (PyPI, pinned in .ci/run), whose wheel carries a current
 * librdkafka 2.x, against a Tributary broker. The client side is
 * test/interop/confluent_kafka_client.py; it prints JSON lines that these tests check:
 *   - idempotent producers with each codec, read back exactly, and the stored batches carry
 *     that codec and a producer id;
 *   - a consumer group of three members, one of which leaves: the assignment rebalances and
 *     every record is consumed once;
 *   - the AdminClient: cluster, create/list/describe/delete topics, configs, offsets, records,
 *     groups;
 *   - transactions (KIP-98): commit, abort, a fenced zombie, a timeout abort, read_committed
 *     and read_uncommitted readers, consume-transform-produce with send_offsets_to_transaction.
 * The protocol recorder notes every API and version sent; test/interop/results/
 * confluent-kafka.json keeps them with each test's outcome. Checks that fail today for a
 * protocol version Tributary does not serve yet are `todo` with the exact API and version
 * (issue #13, protocol part). kafka-python has its own test (kafka-python.test.ts).
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe } from 'node:test'
import { API_VERSIONS_KEY } from '../../src/protocol/headers.js'
import { REPO_ROOT } from '../support/broker-process.js'
import {
  CODECS, OutcomeLog, assertAdvertisedAtLeast, assertWithinAdvertised, okStep, parseStepLines,
  pythonWith, runProgram, skipUnlessToolchain, startRecordedBroker, writeClientResult,
  type RecordedBroker, type StepLine,
} from './client-harness.js'
import {
  groupChecks, produceChecks, transactionChecks, type ScenarioRun,
} from './client-scenarios.js'

const SCRIPT = path.join(REPO_ROOT, 'test/interop/confluent_kafka_client.py')
const RECORDS = 2000
const PHASE_RECORDS = 1500
const RUN_TIMEOUT_MS = 240_000
const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA'

const python = pythonWith('confluent_kafka')

const skip = skipUnlessToolchain('Python 3 with confluent-kafka', python !== undefined)

interface ConfigEntries { entries: Record<string, { value: string | null, source: string }> }

describe('confluent-kafka (Python, librdkafka 2) against a Tributary broker', { skip }, () => {
  const log = new OutcomeLog()
  let cluster: RecordedBroker
  let steps: Map<string, StepLine>
  const run: ScenarioRun = { steps: () => steps, cluster: () => cluster }
  before(async () => {
    cluster = await startRecordedBroker()
    for (const codec of CODECS) await cluster.client.createTopic(`py-${codec}`, { partitions: 3 })
    await cluster.client.createTopic('py-group', { partitions: 6 })
    for (const topic of ['py-txn', 'py-txn-in', 'py-txn-out']) {
      await cluster.client.createTopic(topic, { partitions: 2 })
    }
    const result = await runProgram(python as string, [SCRIPT, cluster.bootstrap,
      ...CODECS.map(codec => `produce:${codec}`), 'group', 'admin', 'txn'],
    { timeoutMs: RUN_TIMEOUT_MS })
    assert.equal(result.code, 0, `the Python program exited ${result.code}: ${result.stderr}`)
    steps = parseStepLines(result.stdout)
  })
  after(async () => {
    if (cluster === undefined) return
    const recording = cluster.recorder.recording()
    await cluster.stop()
    const versions = steps?.get('client/versions')
    await writeClientResult('confluent-kafka', {
      client: 'confluent-kafka (Python)',
      language: 'Python',
      version: String(versions?.confluentKafka ?? 'unknown'),
      library: `librdkafka ${String(versions?.librdkafka ?? 'unknown')}`,
      recording,
      outcomes: log.outcomes,
    })
  })

  for (const codec of CODECS) {
    produceChecks(log, run, codec, `py-${codec}`, RECORDS,
      'enable.idempotence=true (so acks=all)')
  }
  groupChecks(log, run, PHASE_RECORDS)

  log.it('describes the cluster: one node, at the address the clients were given', () => {
    const described = okStep(steps, 'admin/describeCluster')
    assert.deepEqual(described.nodes,
      [{ id: 1, host: '127.0.0.1', port: cluster.recorder.port }])
    assert.equal(described.controller, 1)
  })

  log.it('creates topics with partitions and configs', async () => {
    okStep(steps, 'admin/createTopics')
    const { topics } = await cluster.client.metadata(['py-admin-a'])
    assert.equal(topics[0]?.partitions.length, 3)
  })

  log.it('lists topics', () => {
    const names = okStep<{ names: string[] }>(steps, 'admin/listTopics').names
    assert.ok(names.includes('py-admin-a') && names.includes('py-admin-b'), names.join())
  })

  log.it('describes a topic\'s partitions and leaders', () => {
    const described = okStep(steps, 'admin/describeTopics')
    assert.equal(described.internal, false)
    assert.deepEqual(described.partitions, [0, 1, 2].map(partition => ({
      partition, leader: 1, replicas: 1, isr: 1,
    })))
  })

  log.it('describes a topic with its topic id', () => {
    assert.notEqual(okStep(steps, 'admin/describeTopics').topicId, ZERO_TOPIC_ID,
      'the zero UUID')
  })

  log.it('describes topic configs: the one set at creation is a dynamic topic config', () => {
    const { entries } = okStep<ConfigEntries>(steps, 'admin/describeTopicConfigs')
    assert.deepEqual(entries['retention.ms'],
      { value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' })
  })

  log.it('alters a topic config incrementally', () => {
    const { entries } = okStep<ConfigEntries>(steps, 'admin/incrementalAlterConfigs')
    assert.deepEqual(entries['retention.ms'],
      { value: '7200000', source: 'DYNAMIC_TOPIC_CONFIG' })
  })

  log.it('lists earliest and latest offsets', async () => {
    const offsets = okStep(steps, 'admin/listOffsets')
    const latest = await cluster.client.listOffsets('py-group', 0, -1)
    assert.deepEqual(offsets.earliest, { offset: 0, timestamp: -1 })
    assert.deepEqual(offsets.latest, { offset: latest.offset, timestamp: -1 })
  })

  log.it('lists the offset of the largest timestamp', () => {
    const { maxTimestamp } = okStep<{ maxTimestamp: { offset?: number, error?: string } }>(steps,
      'admin/listOffsets')
    assert.equal(maxTimestamp.error, undefined, maxTimestamp.error)
    assert.ok((maxTimestamp.offset ?? -1) >= 0)
  })

  log.it('deletes records below an offset', () => {
    assert.equal(okStep(steps, 'admin/deleteRecords').lowWatermark, 10)
  })

  log.it('lists and describes the consumer group after its members left', () => {
    const groups = okStep<{ listed: { groupId: string }[], state: string, members: number }>(
      steps, 'admin/groups')
    assert.ok(groups.listed.some(group => group.groupId === 'py-group'))
    assert.equal(groups.state, 'EMPTY')
    assert.equal(groups.members, 0)
  })

  log.it('lists the consumer group with its state and type', () => {
    const { listed } = okStep<{ listed: { groupId: string }[] }>(steps, 'admin/groups')
    const group = listed.find(candidate => candidate.groupId === 'py-group')
    assert.deepEqual(group, { groupId: 'py-group', state: 'EMPTY', type: 'CLASSIC' },
      `listed as ${JSON.stringify(group)}`)
  })

  log.it('deletes a topic', () => {
    const names = okStep<{ names: string[] }>(steps, 'admin/deleteTopics').names
    assert.ok(!names.includes('py-admin-b') && names.includes('py-admin-a'), names.join())
  })

  // librdkafka's local code for PRODUCER_FENCED / INVALID_PRODUCER_EPOCH from the broker.
  transactionChecks(log, run, '_FENCED', 'send_offsets_to_transaction')

  log.it('sends only API versions the broker advertised', () => {
    assertWithinAdvertised(cluster.recorder.recording())
  })

  log.it('is answered at ApiVersions v4, the version Kafka 4.1 serves', () => {
    assertAdvertisedAtLeast(cluster.recorder.recording(), API_VERSIONS_KEY, 4)
  })
})
