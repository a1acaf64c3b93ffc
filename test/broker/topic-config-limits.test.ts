/**
 * Topic configs that would make the broker open a file per batch, against a real broker:
 * Kafka 4's minimums (KIP-1030) answer INVALID_CONFIG on CreateTopics and AlterConfigs; a batch
 * larger than segment.bytes is RECORD_LIST_TOO_LARGE (Kafka's RecordBatchTooLargeException)
 * instead of a segment of its own; a tiny offset index with an entry per batch does not roll.
 */
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

describe('topic config limits', () => {
  let broker: BrokerProcess
  let client: KafkaClient

  before(async () => {
    broker = await startBroker()
    client = new KafkaClient({ bootstrap: broker.bootstrap })
  })
  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  async function segmentFiles (topic: string): Promise<string[]> {
    const names = await readdir(path.join(broker.dataDir, `${topic}-0`))
    return names.filter(name => name.endsWith('.log'))
  }

  it('refuses configs below the minimums with INVALID_CONFIG, on create and alter', async () => {
    for (const [name, value] of [['segment.bytes', '14'], ['segment.bytes', '1048575'],
      ['segment.ms', '1'], ['segment.index.bytes', '4']]) {
      await assert.rejects(client.createTopic(`tiny-${name}`,
        { configs: { [name as string]: value as string } }),
      (error: Error & { errorName?: string }) => error.errorName === 'INVALID_CONFIG' &&
        error.message.includes(`${name}:`) && error.message.includes('below the minimum'),
      `${name}=${value}`)
    }
    await client.createTopic('altered', { partitions: 1 })
    await assert.rejects(client.alterTopicConfigs('altered', { 'segment.bytes': '1000' }),
      { errorName: 'INVALID_CONFIG' })
    await assert.rejects(client.alterTopicConfigs('altered', { 'segment.ms': '10' }),
      { errorName: 'INVALID_CONFIG' })
    await client.alterTopicConfigs('altered', { 'segment.bytes': '1048576' })
  })

  it('refuses a batch larger than segment.bytes instead of giving it a file', async () => {
    await client.createTopic('bigger-than-segment', { partitions: 1, configs: {
      'segment.bytes': '1048576', 'max.message.bytes': '4194304' } })
    const big = buildRecordBatchSync([{ value: Buffer.alloc(1536 * 1024, 0x62) }])
    for (let n = 0; n < 3; n++) {
      await assert.rejects(client.produce('bigger-than-segment', 0, big),
        { errorName: 'RECORD_LIST_TOO_LARGE' })
    }
    const fits = buildRecordBatchSync([{ value: Buffer.alloc(512 * 1024, 0x62) }])
    assert.equal((await client.produce('bigger-than-segment', 0, fits)).baseOffset, 0)
    assert.equal((await segmentFiles('bigger-than-segment')).length, 1)
  })

  it('does not roll a segment every 128 batches for a 1 KiB index with an entry per batch',
    async () => {
      await client.createTopic('dense-index', { partitions: 1, configs: {
        'segment.index.bytes': '1024', 'index.interval.bytes': '0' } })
      for (let n = 0; n < 300; n++) {
        await client.produce('dense-index', 0, buildRecordBatchSync([{ value: `v${n}` }]))
      }
      assert.deepEqual(await segmentFiles('dense-index'), ['00000000000000000000.log'])
      const last = await client.fetch('dense-index', 0, 299)
      assert.ok((last.records?.length ?? 0) > 0, 'lookups still find the last batch')
    })
})
