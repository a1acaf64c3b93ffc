/**
 * Internal state is not reachable as data, against a real broker process: the metadata log
 * cannot be named, produced to, fetched or created as a topic (kcat, the project's client and
 * HTTP), internal topics refuse every client write but stay readable, one Metadata request
 * auto-creates a bounded number of topics, and after all of it a restart finds the topics,
 * records and committed offsets intact.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, readdir } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaClientError } from '../../src/client/errors.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { ERROR, errorCodeOf } from '../../src/protocol/errors.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { AUTO_CREATE_TOPICS_PER_REQUEST } from '../../src/broker/topic-creator.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const kcatAvailable = spawnSync('kcat', ['-V']).status === 0

function kcat (args: string[], input: string): Promise<{ code: number | null, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`kcat ${args.join(' ')} timed out; stderr: ${stderr}`))
    }, 30_000)
    child.stderr.on('data', chunk => { stderr += chunk.toString() })
    child.on('exit', code => {
      clearTimeout(timer)
      resolve({ code, stderr })
    })
    child.stdin.end(input)
  })
}

function batch (value: string): Buffer {
  return buildRecordBatchSync([{ key: Buffer.from('k'), value: Buffer.from(value) }],
    { timestampMs: Date.now() })
}

function kafkaError (errorName: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof KafkaClientError, String(error))
    assert.equal(error.errorName, errorName, error.message)
    return true
  }
}

/** Produce straight to a partition, without the client's metadata lookup first. */
async function rawProduce (client: KafkaClient, topic: string, value: string):
Promise<{ errorCode: number }> {
  const connection = await client.any()
  const response = await connection.send(Produce, {
    transactionalId: null, acks: -1, timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch(value) }] }],
  })
  const result = response.responses[0]?.partitionResponses[0]
  assert.ok(result !== undefined)
  return { errorCode: result.errorCode }
}

async function http (broker: BrokerProcess, method: string, url: string,
  body?: unknown): Promise<{ status: number, body: { message?: string } }> {
  const response = await fetch(`http://127.0.0.1:${broker.httpPort}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() as { message?: string } }
}

describe('internal state is not reachable as data', () => {
  let broker: BrokerProcess
  let client: KafkaClient

  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3' } })
    client = new KafkaClient({ bootstrap: [broker.bootstrap], clientId: 'internal-state' })
    await client.createTopic('kept', { partitions: 1 })
    await client.produce('kept', 0, batch('before'))
    await client.commitGroupOffsets('kept-group', [{ topic: 'kept', partition: 0, offset: 1 }])
  })
  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('keeps the metadata log out of the topic namespace on disk', async () => {
    const names = await readdir(broker.dataDir)
    assert.ok(!names.includes('__cluster_metadata-0'), names.join(' '))
    assert.deepEqual(await readdir(path.join(broker.dataDir, 'metadata')),
      ['__cluster_metadata-0'])
  })

  it('refuses kcat producing to __cluster_metadata, and stays up',
    { skip: !kcatAvailable && 'kcat is not installed' }, async () => {
      const result = await kcat(['-P', '-b', broker.bootstrap, '-t', '__cluster_metadata',
        '-p', '0', '-m', '5'], 'garbage\n')
      assert.notEqual(result.code, 0, 'kcat must not report success')
      const metadata = await client.metadata(null)
      assert.ok(!metadata.topics.some(topic => topic.name === '__cluster_metadata'))
    })

  it('does not know __cluster_metadata as a topic on any Kafka API', async () => {
    const produced = await rawProduce(client, '__cluster_metadata', 'garbage')
    assert.equal(produced.errorCode, ERROR.UNKNOWN_TOPIC_OR_PARTITION)
    await assert.rejects(client.createTopic('__cluster_metadata'), (error: unknown) => {
      assert.ok(error instanceof KafkaClientError)
      assert.equal(error.errorName, 'INVALID_REQUEST')
      assert.match(error.message, /Creation of internal topic __cluster_metadata is prohibited/)
      return true
    })
    const metadata = await client.metadata(['__cluster_metadata'], true)
    assert.equal(metadata.topics[0]?.errorCode, ERROR.INVALID_TOPIC_EXCEPTION,
      'never auto-created')
    await assert.rejects(client.fetch('__cluster_metadata', 0, 0),
      kafkaError('UNKNOWN_TOPIC_OR_PARTITION'))
    await assert.rejects(client.alterTopicConfigs('__cluster_metadata', { 'retention.ms': '1' }),
      kafkaError('UNKNOWN_TOPIC_OR_PARTITION'))
    await assert.rejects(client.deleteTopic('__cluster_metadata'),
      kafkaError('UNKNOWN_TOPIC_OR_PARTITION'))
  })

  it('refuses every client write to __consumer_offsets but lets clients read it', async () => {
    const produced = await rawProduce(client, '__consumer_offsets', 'garbage')
    assert.equal(produced.errorCode, ERROR.INVALID_TOPIC_EXCEPTION)
    await assert.rejects(client.createTopic('__consumer_offsets'), kafkaError('INVALID_REQUEST'))
    await assert.rejects(client.createTopic('__transaction_state'),
      kafkaError('INVALID_REQUEST'))
    await assert.rejects(client.deleteTopic('__consumer_offsets'), kafkaError('INVALID_REQUEST'))
    await assert.rejects(client.createPartitions('__consumer_offsets', 10),
      kafkaError('INVALID_REQUEST'))
    await assert.rejects(client.alterTopicConfigs('__consumer_offsets', { 'retention.ms': '1' }),
      kafkaError('INVALID_REQUEST'))
    await assert.rejects(client.deleteRecords('__consumer_offsets', 0, -1),
      kafkaError('INVALID_TOPIC_EXCEPTION'))
    const metadata = await client.metadata(['__consumer_offsets', '__transaction_state'], true)
    assert.equal(metadata.topics[0]?.errorCode, ERROR.NONE)
    assert.equal(metadata.topics[0]?.isInternal, true)
    assert.equal(metadata.topics[0]?.partitions.length, 3)
    assert.equal(metadata.topics[1]?.errorCode, ERROR.UNKNOWN_TOPIC_OR_PARTITION,
      'an internal topic is not auto-created for a client')
    const fetched = await client.fetch('__consumer_offsets', 0, 0)
    assert.equal(fetched.errorCode, ERROR.NONE)
  })

  it('refuses internal and reserved names over HTTP with a 4xx naming the field', async () => {
    for (const name of ['__consumer_offsets', '__transaction_state', '__cluster_metadata']) {
      const created = await http(broker, 'POST', '/api/v1/topics', { name })
      assert.equal(created.status, 400, JSON.stringify(created.body))
      assert.match(created.body.message ?? '', /^body\.name: /)
    }
    const toOffsets = await http(broker, 'POST', '/api/v1/produce',
      { topic: '__consumer_offsets', partition: 0, messages: [{ value: 'garbage' }] })
    assert.equal(toOffsets.status, 400, JSON.stringify(toOffsets.body))
    assert.match(toOffsets.body.message ?? '', /internal topic/)
    const toMetadata = await http(broker, 'POST', '/api/v1/produce',
      { topic: '__cluster_metadata', partition: 0, messages: [{ value: 'garbage' }] })
    assert.equal(toMetadata.status, 400, JSON.stringify(toMetadata.body))
  })

  it('auto-creates at most a bounded number of topics per Metadata request', async () => {
    const names = Array.from({ length: AUTO_CREATE_TOPICS_PER_REQUEST + 50 },
      (_, i) => `auto-${i}`)
    const first = await client.metadata(names, true)
    const created = first.topics.filter(topic => topic.errorCode === ERROR.NONE)
    const deferred = first.topics.filter(topic =>
      topic.errorCode === errorCodeOf('LEADER_NOT_AVAILABLE'))
    assert.equal(created.length, AUTO_CREATE_TOPICS_PER_REQUEST)
    assert.equal(deferred.length, 50, 'the rest are retriable, not failed')
    const second = await client.metadata(names, true)
    assert.ok(second.topics.every(topic => topic.errorCode === ERROR.NONE),
      'a retry creates the rest')
  })

  it('restarts with topics, records and committed offsets intact; sets a stray log aside',
    async () => {
      assert.equal(await broker.stop(), 0)
      // A partition directory the metadata does not know (an image that lost topics would make
      // every directory look like this): set aside at start-up, never deleted.
      await mkdir(path.join(broker.dataDir, 'ghost-0'))
      broker = await startBroker({ dataDir: broker.dataDir,
        env: { TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '3' } })
      await client.close()
      client = new KafkaClient({ bootstrap: [broker.bootstrap], clientId: 'internal-state' })
      const fetched = await client.fetch('kept', 0, 0)
      assert.equal(fetched.highWatermark, 1)
      const offsets = await client.fetchGroupOffsets('kept-group')
      assert.deepEqual([...(offsets.get('kept') ?? [])], [[0, 1]])
      const metadata = await client.metadata(null)
      assert.ok(!metadata.topics.some(topic => topic.name === '__cluster_metadata'))
      const names = await readdir(broker.dataDir)
      assert.ok(names.some(name => /^ghost-0\.[0-9a-f]{8}-stray$/.test(name)), names.join(' '))
      assert.match(broker.output(),
        /WARN ghost-0 is not in the cluster metadata; its log was set aside/)
    })
})
