/**
 * Against a real broker: the debug latency breakdown (tributary.debug.latency.sample.rate)
 * times every stage of sampled produced batches, wakes of long-polling consumers included, with
 * the broker's event-loop delay and GC pauses; a broker without the setting serves no such
 * endpoint. The flush-round and fsync histograms are scraped from the same broker.
 */
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import type { LatencyReport } from '../../src/broker/latency-sampler.js'
import { KafkaClient } from '../../src/client/client.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

let sampled: BrokerProcess
let plain: BrokerProcess

before(async () => {
  const env = { TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '1' }
  ;[sampled, plain] = await Promise.all([
    startBroker({ env: { ...env, TRIBUTARY_TRIBUTARY_DEBUG_LATENCY_SAMPLE_RATE: '1' } }),
    startBroker({ env }),
  ])
})
after(async () => {
  for (const broker of [sampled, plain]) {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  }
})

function batch (): Buffer {
  return buildRecordBatchSync([{ value: Buffer.from('latency') }], { timestampMs: Date.now() })
}

it('times each stage of sampled batches and the consumer they wake', async () => {
  const client = new KafkaClient({ bootstrap: sampled.bootstrap })
  const consumer = new KafkaClient({ bootstrap: sampled.bootstrap })
  try {
    await client.createTopic('traced', { partitions: 1 })
    await client.metadata(['traced'])
    await consumer.metadata(['traced'])
    const url = `http://127.0.0.1:${sampled.httpPort}/debug/latency`
    assert.equal((await fetch(url, { method: 'DELETE' })).status, 204)
    for (let i = 0; i < 5; i++) {
      // A consumer long-polls at the log end, so the append wakes it.
      const polled = consumer.fetch('traced', 0, i, { maxWaitMs: 5000 })
      await new Promise(resolve => setTimeout(resolve, 50))
      await client.produce('traced', 0, batch(), { acks: -1 })
      await polled
    }
    const response = await fetch(url)
    assert.equal(response.status, 200)
    const report = await response.json() as LatencyReport
    assert.equal(report.sampleRate, 1)
    assert.equal(report.traces, 5)
    const stages = report.stagesMs
    for (const stage of ['received → appended', 'appended → round start', 'round start → written',
      'written → synced', 'synced → acknowledged', 'acknowledged → consumer woken',
      'received → acknowledged (broker total)', 'produce answer ready → to the socket',
      'fetch: log read']) {
      const name = Object.keys(stages).find(key => key.startsWith(stage))
      assert.ok(name !== undefined, `stage ${stage} in ${Object.keys(stages).join('; ')}`)
      const percentiles = stages[name]
      assert.ok(percentiles !== undefined && percentiles.count > 0 && percentiles.p50 >= 0)
    }
    // fsync before ack (the default): no relaxed-mode stage.
    assert.equal(Object.keys(stages).some(key => key.includes('relaxed')), false)
    assert.equal(stages['received → acknowledged (broker total)']?.count, 5)
    assert.ok(report.broker.windowMs > 0)
    assert.ok(report.broker.eventLoopDelayMs.max >= 0)
    if (process.platform === 'linux') {
      // The main thread's scheduler counters over the window: it served these requests.
      const main = report.broker.mainThread
      assert.ok(main !== undefined && main.onCpuMs > 0 && main.waitingForCpuMs >= 0,
        JSON.stringify(main))
    }

    const metrics = await (await fetch(`http://127.0.0.1:${sampled.httpPort}/metrics`)).text()
    const logFsyncs = /^tributary_log_fsync_duration_seconds_count\{kind="log"\} (\d+)$/m
      .exec(metrics)?.[1]
    assert.ok(Number(logFsyncs) >= 5, `log fdatasyncs ${logFsyncs}`)
    assert.match(metrics, /^tributary_log_flush_round_duration_seconds_bucket\{le="\+Inf"\} \d+$/m)
  } finally {
    await client.close()
    await consumer.close()
  }
})

it('serves no breakdown when sampling is off (the default)', async () => {
  const response = await fetch(`http://127.0.0.1:${plain.httpPort}/debug/latency`)
  assert.equal(response.status, 404)
})
