/**
 * `tributary group ...` against a real broker whose group was formed by kafkajs: describe with
 * Kafka's columns and TOTAL-LAG, reset-offsets (dry run, then --execute), delete-offsets,
 * delete.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, it } from 'node:test'
import kafkajs from 'kafkajs'
import {
  BIN, REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'

const { Kafka, logLevel } = kafkajs
let broker: BrokerProcess

function cli (args: string[]): { status: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [BIN, '--bootstrap', broker.bootstrap, ...args],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

before(async () => {
  broker = await startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3' } })
})
after(async () => {
  await broker.stop()
  await removeDataDir(broker.dataDir)
})

it('describes, resets and deletes a consumer group', async () => {
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'lagging', numPartitions: 2 }] })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: 'lagging', messages: Array.from({ length: 40 },
    (_, i) => ({ value: String(i), partition: i % 2 })) })
  await producer.disconnect()
  // Commit offset 5 on both partitions, then leave the group so it is inactive.
  await admin.setOffsets({ groupId: 'cli-group', topic: 'lagging',
    partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '5' }] })
  await admin.disconnect()

  // The lag is a metric too, refreshed in the background every few seconds.
  let metrics = ''
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline &&
    !/tributary_consumer_group_lag\{group="cli-group",topic="lagging"\} 30/.test(metrics)) {
    await new Promise(resolve => setTimeout(resolve, 500))
    metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
  }
  assert.match(metrics, /tributary_consumer_group_lag\{group="cli-group",topic="lagging"\} 30/)
  assert.match(metrics, /tributary_consumer_group_lag_seconds\{group="cli-group",topic="lagging"\} [\d.]+/)

  assert.match(cli(['group', 'list']).stdout, /^cli-group$/m)
  const described = cli(['group', 'describe', 'cli-group'])
  assert.equal(described.status, 0, described.stderr)
  assert.match(described.stdout, /GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID/)
  assert.match(described.stdout, /^TOTAL-LAG: 30$/m)
  const json = JSON.parse(cli(['--format', 'json', 'group', 'describe', 'cli-group']).stdout)
  assert.equal(json.partitions[0]['current-offset'], 5)

  const dryRun = cli(['group', 'reset-offsets', 'cli-group', '--topic', 'lagging',
    '--to-earliest'])
  assert.match(dryRun.stdout, /dry run/)
  assert.match(cli(['group', 'describe', 'cli-group']).stdout, /^TOTAL-LAG: 30$/m)
  assert.equal(cli(['group', 'reset-offsets', 'cli-group', '--topic', 'lagging',
    '--to-earliest', '--execute']).status, 0)
  assert.match(cli(['group', 'describe', 'cli-group']).stdout, /^TOTAL-LAG: 40$/m)
  assert.equal(cli(['group', 'reset-offsets', 'cli-group', '--topic', 'lagging',
    '--to-offset', '10', '--execute']).status, 0)
  assert.match(cli(['group', 'describe', 'cli-group']).stdout, /^TOTAL-LAG: 20$/m)
  const twoTargets = cli(['group', 'reset-offsets', 'cli-group', '--topic', 'lagging',
    '--to-earliest', '--to-latest'])
  assert.equal(twoTargets.status, 2)

  assert.equal(cli(['group', 'delete-offsets', 'cli-group', '--topic', 'lagging', '-p', '0'])
    .status, 0)
  const afterDelete = JSON.parse(cli(['--format', 'json', 'group', 'describe', 'cli-group']).stdout)
  assert.deepEqual(afterDelete.partitions.map((p: { partition: number }) => p.partition), [1])
  assert.equal(cli(['group', 'delete', 'cli-group']).status, 0)
  assert.doesNotMatch(cli(['group', 'list']).stdout, /cli-group/)
  const missing = cli(['group', 'delete', 'cli-group'])
  assert.notEqual(missing.status, 0)
  assert.match(missing.stderr, /^tributary: /)
})
