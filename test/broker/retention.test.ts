/**
 * Retention on a real broker: records older than a topic's retention.ms are deleted at the
 * next log.retention.check.interval.ms once their segment is inactive; ListOffsets (earliest)
 * and Fetch see the new log start offset at once (OFFSET_OUT_OF_RANGE below it); an
 * alter-config of retention.ms takes effect without a restart, and the reclaimed bytes show in
 * the metrics after file.delete.delay.ms.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { KafkaClientError } from '../../src/client/errors.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const HOUR_MS = 3_600_000

async function eventually<T> (read: () => Promise<T>, done: (value: T) => boolean,
  what: string): Promise<T> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe('retention on a broker', () => {
  let broker: BrokerProcess
  let client: KafkaClient

  before(async () => {
    broker = await startBroker({ env: {
      TRIBUTARY_INTERNAL_SEGMENT_BYTES: '16384',
      TRIBUTARY_LOG_RETENTION_CHECK_INTERVAL_MS: '100',
      TRIBUTARY_LOG_SEGMENT_DELETE_DELAY_MS: '200',
    } })
    client = new KafkaClient({ bootstrap: broker.bootstrap })
  })

  after(async () => {
    await client.close()
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('deletes old segments once retention.ms is set, and reads honour the new start',
    async () => {
      await client.createTopic('aged', { partitions: 1, configs: { 'retention.ms': '-1' } })
      // Two hours old: past a one-hour retention as soon as it is set.
      const old = Date.now() - 2 * HOUR_MS
      for (let n = 0; n < 40; n++) {
        await client.produce('aged', 0, buildRecordBatchSync([{ value: Buffer.alloc(1000, n),
          timestamp: old }], { timestampMs: old }))
      }
      // A recent batch keeps the segment it shares with the last old ones.
      await client.produce('aged', 0, buildRecordBatchSync([{ value: 'new' }]))
      await new Promise(resolve => setTimeout(resolve, 500))
      assert.equal((await client.listOffsets('aged', 0, -2)).offset, 0,
        'retention.ms -1 keeps everything')
      await client.alterTopicConfigs('aged', { 'retention.ms': String(HOUR_MS) })
      const earliest = await eventually(
        async () => (await client.listOffsets('aged', 0, -2)).offset, offset => offset > 0,
        'the log start offset after retention')
      assert.ok(earliest <= 40, `log start offset ${earliest}`)
      await assert.rejects(client.fetch('aged', 0, 0, { maxWaitMs: 0 }), (error: unknown) =>
        error instanceof KafkaClientError && error.errorName === 'OFFSET_OUT_OF_RANGE')
      const fetched = await client.fetch('aged', 0, earliest, { maxWaitMs: 0 })
      assert.equal(fetched.logStartOffset, earliest)
      assert.ok(fetched.records !== null && fetched.records.length > 0, 'the rest is read')
      const metrics = await eventually(async () =>
        await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text(),
      text => /^tributary_log_reclaimed_bytes_total [1-9]/m.test(text), 'reclaimed bytes')
      assert.match(metrics, /^tributary_log_retention_reclaim_seconds_count [1-9]/m)
    })
})
