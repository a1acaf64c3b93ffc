/**
 * The `tributary` client commands against a real broker: topic management, a produce/consume
 * round trip through stdin/stdout, JSON output that parses, dump-log, and errors that are one
 * line with a non-zero exit.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  BIN, REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'

let broker: BrokerProcess

function cli (args: string[], input = ''): { status: number | null, stdout: string,
  stderr: string } {
  const result = spawnSync(process.execPath, [BIN, '--bootstrap', broker.bootstrap, ...args], {
    cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 30_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('tributary CLI', () => {
  before(async () => { broker = await startBroker() })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('creates, lists, describes, alters, grows and deletes topics', () => {
    assert.equal(cli(['topic', 'create', 'cli-a', '--partitions', '2', '--config',
      'retention.ms=60000']).status, 0)
    assert.match(cli(['topic', 'list']).stdout, /^cli-a$/m)
    const described = cli(['topic', 'describe', 'cli-a']).stdout
    assert.match(described, /Topic: cli-a\tPartitionCount: 2/)
    assert.match(described, /Partition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tLogStartOffset: 0/)
    assert.match(described, /CleanupPolicy: delete\t/)
    assert.match(described, /retention\.ms=60000/)
    assert.equal(cli(['topic', 'alter-config', 'cli-a', '--set', 'retention.ms=1000']).status, 0)
    assert.match(cli(['topic', 'describe', 'cli-a']).stdout, /retention\.ms=1000/)
    // Without a name: every topic, in name order, each with its configs.
    assert.equal(cli(['topic', 'create', 'cli-0']).status, 0)
    const all = cli(['topic', 'describe']).stdout
    assert.match(all, new RegExp('^Topic: cli-0\tPartitionCount: 1\t[^]*' +
      '^Topic: cli-a\tPartitionCount: 2\t.*retention\\.ms=1000$', 'm'))
    assert.equal(cli(['topic', 'delete', 'cli-0']).status, 0)
    assert.equal(cli(['topic', 'add-partitions', 'cli-a', '--count', '4']).status, 0)
    const json = JSON.parse(cli(['--format', 'json', 'topic', 'list']).stdout)
    assert.deepEqual(json.find((t: { topic: string }) => t.topic === 'cli-a').partitions, 4)
    assert.equal(cli(['topic', 'delete', 'cli-a']).status, 0)
    assert.doesNotMatch(cli(['topic', 'list']).stdout, /cli-a/)
  })

  it('round-trips stdin lines with keys and headers through produce and consume', () => {
    assert.equal(cli(['topic', 'create', 'cli-b', '--partitions', '3']).status, 0)
    const lines = Array.from({ length: 500 }, (_, i) => `key-${i % 7}:value ${i}`)
    const produced = cli(['produce', 'cli-b', '-k', ':', '-H', 'origin=cli', '-z', 'lz4'],
      lines.join('\n') + '\n')
    assert.equal(produced.status, 0, produced.stderr)
    const consumed = cli(['consume', 'cli-b', '-e'])
    assert.equal(consumed.status, 0, consumed.stderr)
    const records = consumed.stdout.trim().split('\n').map(line => JSON.parse(line))
    assert.equal(records.length, 500)
    assert.deepEqual(records.map(r => `${r.key}:${r.value}`).sort(), [...lines].sort())
    assert.ok(records.every(r => r.headers.origin === 'cli' && typeof r.timestamp === 'number'))
    // Same key, same partition (murmur2).
    const byKey = new Map<string, Set<number>>()
    for (const r of records) byKey.set(r.key, (byKey.get(r.key) ?? new Set()).add(r.partition))
    assert.ok([...byKey.values()].every(partitions => partitions.size === 1))
    const formatted = cli(['consume', 'cli-b', '-e', '-p', '0', '-c', '1', '-f', '%p/%o %k\n'])
    assert.match(formatted.stdout, /^0\/0 key-\d$/m)
    const last = cli(['consume', 'cli-b', '-e', '-p', '0', '-o', '-1']).stdout.trim().split('\n')
    assert.equal(last.length, 1)
  })

  it('checks a segment with dump-log', () => {
    const file = path.join(broker.dataDir, 'cli-b-0', '00000000000000000000.log')
    const dumped = cli(['--format', 'json', 'dump-log', file])
    assert.equal(dumped.status, 0, dumped.stderr)
    const first = JSON.parse(dumped.stdout.split('\n')[0] ?? '')
    assert.equal(first.baseOffset, 0)
    assert.equal(first.isValid, true)
  })

  it('reports health, and fails with one line and a non-zero exit', () => {
    assert.equal(cli(['cluster', 'health']).status, 0)
    assert.match(cli(['cluster', 'info']).stdout, /Controller: 1/)
    const missing = cli(['topic', 'describe', 'no-such-topic'])
    assert.notEqual(missing.status, 0)
    assert.equal(missing.stderr.trim().split('\n').length, 1)
    const bad = cli(['topic', 'create', 'x', '--partitions', 'many'])
    assert.equal(bad.status, 2)
    const down = spawnSync(process.execPath, [BIN, '--bootstrap', '127.0.0.1:1', 'cluster',
      'health'], { encoding: 'utf8' })
    assert.equal(down.status, 3)
    assert.match(down.stderr, /^tributary: unhealthy/)
  })
})
