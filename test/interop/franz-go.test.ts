/**
 * franz-go (github.com/twmb/franz-go: kgo and kadm) against a Tributary broker. franz-go
 * negotiates the newest version of every API it knows, so it finds version gaps first. The
 * client side is the Go module in test/interop/go/ (`go build`, incremental through Go's build
 * cache); it prints JSON lines that these tests check:
 *   - producers with kgo's defaults (idempotent, acks=all) and each codec, read back exactly,
 *     and the stored batches carry that codec and a producer id;
 *   - a consumer group of three members, one of which leaves: the assignment rebalances and
 *     every record is consumed once;
 *   - kadm: broker metadata, create/list/describe/delete topics, topic configs, offsets, groups.
 * The protocol recorder notes every API and version sent; test/interop/results/franz-go.json
 * keeps them with each test's outcome. Checks that fail today for a protocol version Tributary
 * does not serve yet are `todo` with the exact API and version (issue #13, protocol part).
 */
import assert from 'node:assert/strict'
import { after, before, describe } from 'node:test'
import { API_VERSIONS_KEY } from '../../src/protocol/headers.js'
import {
  CODECS, OutcomeLog, assertAdvertisedAtLeast, assertWithinAdvertised, okStep,
  parseStepLines, runProgram, skipUnlessToolchain, startRecordedBroker, writeClientResult,
  type RecordedBroker, type StepLine,
} from './client-harness.js'
import { groupChecks, produceChecks, type ScenarioRun } from './client-scenarios.js'
import { buildGo, GO_BINARY, goToolchainWorks } from './go-build.js'

const RECORDS = 2000
const PHASE_RECORDS = 1500
const RUN_TIMEOUT_MS = 240_000
const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA'

const skip = skipUnlessToolchain('Go', goToolchainWorks())

interface ClientMaxVersion { apiKey: number, name: string, maxVersion: number }
interface ConfigEntries { entries: Record<string, { value: string | null, source: string }> }

describe('franz-go (kgo, kadm) against a Tributary broker', { skip }, () => {
  const log = new OutcomeLog()
  let cluster: RecordedBroker
  let steps: Map<string, StepLine>
  const run: ScenarioRun = { steps: () => steps, cluster: () => cluster }
  before(async () => {
    await buildGo()
    cluster = await startRecordedBroker()
    for (const codec of CODECS) await cluster.client.createTopic(`go-${codec}`, { partitions: 3 })
    await cluster.client.createTopic('go-group', { partitions: 6 })
    const result = await runProgram(GO_BINARY, [cluster.bootstrap,
      ...CODECS.map(codec => `produce:${codec}`), 'group', 'admin'],
    { timeoutMs: RUN_TIMEOUT_MS })
    assert.equal(result.code, 0, `the Go program exited ${result.code}: ${result.stderr}`)
    steps = parseStepLines(result.stdout)
  })
  after(async () => {
    if (cluster === undefined) return
    const recording = cluster.recorder.recording()
    await cluster.stop()
    if (steps === undefined) return
    const versions = okStep<{ version: string, knownApis: ClientMaxVersion[] }>(steps,
      'client/versions')
    await writeClientResult('franz-go', {
      client: 'franz-go (github.com/twmb/franz-go kgo, kadm)',
      language: 'Go',
      version: versions.version,
      recording,
      outcomes: log.outcomes,
      clientMaxVersions: versions.knownApis,
    })
  })

  for (const codec of CODECS) {
    produceChecks(log, run, codec, `go-${codec}`, RECORDS,
      'kgo\'s defaults (idempotent, acks=all)')
  }
  groupChecks(log, run, PHASE_RECORDS)

  log.it('reads broker metadata: one broker, at the address the clients were given', () => {
    const metadata = okStep(steps, 'admin/brokerMetadata')
    assert.deepEqual(metadata.brokers,
      [{ id: 1, host: '127.0.0.1', port: cluster.recorder.port }])
    assert.equal(metadata.controller, 1)
    assert.ok(typeof metadata.clusterId === 'string' && metadata.clusterId.length > 0)
  })

  log.it('creates topics with partitions and configs', async () => {
    okStep(steps, 'admin/createTopics')
    const { topics } = await cluster.client.metadata(['go-admin-a'])
    assert.equal(topics[0]?.partitions.length, 3)
  })

  log.it('gets the created topic\'s partitions, configs and id in the CreateTopics answer',
    () => {
      const { partitions, replicationFactor, topicId, ...rest } =
        okStep(steps, 'admin/createTopics')
      const seen = JSON.stringify({ partitions, replicationFactor, topicId,
        'retention.ms': rest['retention.ms'] })
      assert.equal(partitions, 3, `answered ${seen}`)
      assert.equal(rest['retention.ms'], '3600000', `answered ${seen}`)
      assert.notEqual(topicId, ZERO_TOPIC_ID, `answered ${seen}`)
    })

  log.it('lists topics', () => {
    const names = okStep<{ names: string[] }>(steps, 'admin/listTopics').names
    assert.ok(names.includes('go-admin-a') && names.includes('go-admin-b'), names.join())
    assert.ok(!names.some(name => name.startsWith('__')), names.join())
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
    const { entries } = okStep<ConfigEntries>(steps, 'admin/alterTopicConfigs')
    assert.deepEqual(entries['retention.ms'],
      { value: '7200000', source: 'DYNAMIC_TOPIC_CONFIG' })
  })

  log.it('lists start and end offsets of the group\'s topic', () => {
    const { start, end } = okStep<{ start: Record<string, number>, end: Record<string, number> }>(
      steps, 'admin/listOffsets')
    assert.deepEqual(Object.values(start), [0, 0, 0, 0, 0, 0])
    assert.equal(Object.values(end).reduce((sum, offset) => sum + offset, 0), 2 * PHASE_RECORDS)
  })

  log.it('lists and describes the group, and fetches its committed offsets', () => {
    const groups = okStep(steps, 'admin/groups')
    assert.ok((groups.listed as string[]).includes('go-group'))
    assert.equal(groups.state, 'Empty')
    assert.equal(groups.protocolType, 'consumer')
    assert.equal(groups.members, 0)
    const committed = Object.values(groups.committed as Record<string, number>)
    assert.equal(committed.length, 6)
    assert.equal(committed.reduce((sum, offset) => sum + offset, 0), 2 * PHASE_RECORDS)
  })

  log.it('lists the group with its state', () => {
    const { listedState } = okStep(steps, 'admin/groups')
    assert.equal(listedState, 'Empty', `listed with state ${JSON.stringify(listedState)}`)
  })

  log.it('deletes a topic', () => {
    const names = okStep<{ names: string[] }>(steps, 'admin/deleteTopics').names
    assert.ok(!names.includes('go-admin-b') && names.includes('go-admin-a'), names.join())
  })

  log.it('identifies itself in ApiVersions v3+ (KIP-511) with its module version', () => {
    const { version } = okStep<{ version: string }>(steps, 'client/versions')
    assert.deepEqual(cluster.recorder.recording().clientSoftware,
      [{ name: 'kgo', version }])
  })

  log.it('sends only API versions the broker advertised', () => {
    assertWithinAdvertised(cluster.recorder.recording())
  })

  log.it('is answered at ApiVersions v4, the version Kafka 4.1 serves', () => {
    assertAdvertisedAtLeast(cluster.recorder.recording(), API_VERSIONS_KEY, 4)
  })
})
