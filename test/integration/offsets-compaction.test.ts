/**
 * `__consumer_offsets` is compacted (cleanup.policy=compact), so start-up replay is bounded by
 * live groups, not history: a group commits the same partitions many times, the cleaner
 * compacts the offsets partition (small segments, fast backoff), and after a restart the
 * group's last commits are intact while the partition holds far fewer records than were
 * written.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const ENV = {
  TRIBUTARY_INTERNAL_SEGMENT_BYTES: '16384',
  TRIBUTARY_LOG_CLEANER_BACKOFF_MS: '100',
  TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
}
const COMMITS = 400

describe('__consumer_offsets compaction', () => {
  let broker: BrokerProcess | undefined
  let client: KafkaClient | undefined

  after(async () => {
    await client?.close()
    if (broker !== undefined) {
      if (broker.child.exitCode === null) await broker.stop()
      await removeDataDir(broker.dataDir)
    }
  })

  it('keeps the last commits across a restart after compaction', async () => {
    broker = await startBroker({ env: ENV })
    client = new KafkaClient({ bootstrap: broker.bootstrap })
    await client.createTopic('source', { partitions: 2 })
    for (let i = 1; i <= COMMITS; i++) {
      await client.commitGroupOffsets('g', [{ topic: 'source', partition: 0, offset: i },
        { topic: 'source', partition: 1, offset: 10 * i }])
    }
    const deadline = Date.now() + 20_000
    for (;;) {
      const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
      if (/^tributary_log_cleaner_read_bytes_total [1-9]/m.test(text)) break
      assert.ok(Date.now() < deadline, 'the cleaner compacted __consumer_offsets')
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await client.close()
    assert.equal(await broker.stop(), 0)
    broker = await startBroker({ dataDir: broker.dataDir, env: ENV })
    client = new KafkaClient({ bootstrap: broker.bootstrap })
    const offsets = await client.fetchGroupOffsets('g')
    assert.deepEqual([...(offsets.get('source') ?? new Map())].sort(),
      [[0, COMMITS], [1, 10 * COMMITS]])
    let records = 0
    for await (const _record of readPartition(client, '__consumer_offsets', 0, 0)) records++
    assert.ok(records < COMMITS, `${records} offset records left of ${2 * COMMITS} written`)
  })
})
