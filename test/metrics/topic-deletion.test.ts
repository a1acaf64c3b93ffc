/**
 * Against a real broker: a topic's series (traffic counters, size, log end offsets, group lag)
 * are exported while it exists and disappear from /metrics once it is deleted; the standard
 * process and Node.js metrics are served under their standard names.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, it } from 'node:test'
import {
  BIN, REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'

let broker: BrokerProcess

function cli (args: string[], input = ''): string {
  const result = spawnSync(process.execPath, [BIN, '--bootstrap', broker.bootstrap, ...args],
    { cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 0, result.stderr)
  return result.stdout
}

async function scrape (): Promise<string> {
  return (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
}

before(async () => {
  broker = await startBroker({ env: { TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '1' } })
})
after(async () => {
  await broker.stop()
  await removeDataDir(broker.dataDir)
})

it('drops a deleted topic\'s series from /metrics', async () => {
  cli(['topic', 'create', 'doomed', '--partitions', '2'])
  cli(['topic', 'create', 'kept', '--partitions', '1'])
  cli(['produce', 'doomed', '-q'], 'a\nb\nc\n')
  cli(['produce', 'kept', '-q'], 'a\n')
  cli(['consume', 'doomed', '-e'])
  const before = await scrape()
  assert.match(before, /^tributary_topic_messages_in_total\{topic="doomed"\} 3$/m)
  assert.match(before, /^tributary_topic_size_bytes\{topic="doomed"\} \d+$/m)
  assert.match(before, /^tributary_partition_log_end_offset\{topic="doomed",partition="1"\}/m)
  // The appends were made durable by timed group-commit rounds.
  const roundSeconds = /^tributary_log_flush_round_seconds_total (\S+)$/m.exec(before)?.[1]
  assert.ok(Number(roundSeconds) > 0, `flush round time ${roundSeconds}`)

  cli(['topic', 'delete', 'doomed'])
  let text = await scrape()
  const deadline = Date.now() + 10_000
  while (/topic="doomed"/.test(text) && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 200))
    text = await scrape()
  }
  assert.doesNotMatch(text, /topic="doomed"/)
  assert.match(text, /^tributary_topic_messages_in_total\{topic="kept"\} 1$/m)
})

it('serves the standard process and Node.js metrics under their standard names', async () => {
  const text = await scrape()
  assert.match(text, /^process_cpu_seconds_total \d/m)
  assert.match(text, /^process_resident_memory_bytes \d/m)
  assert.match(text, /^nodejs_heap_size_used_bytes \d/m)
  assert.doesNotMatch(text, /^tributary_process_|^tributary_nodejs_/m)
})
