/**
 * Replication tools and metrics on a real three-broker cluster (real etcd): `topic describe`
 * with kafka-topics.sh's report options, `cluster health` failing while a partition is offline
 * or under min ISR, and the replication gauges on /metrics. A SIGKILLed broker's session
 * expires, and the controller takes it out of every ISR (under-replicated) and leaves the
 * partitions it alone held without a leader (unavailable).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { BIN, REPO_ROOT } from '../support/broker-process.js'
import {
  agreedView, eventually, metadataFrom, startCluster, type TestCluster,
} from '../support/cluster-process.js'
import { etcdAvailable } from '../support/etcd-process.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'

interface CliResult { status: number | null, stdout: string, stderr: string }

describe('replication tools on a three-broker cluster', { skip }, () => {
  let cluster: TestCluster

  /** The CLI against broker 1, without blocking this process (the brokers are children). */
  const cli = (args: string[]): Promise<CliResult> => new Promise((resolve, reject) => {
    const broker = cluster.brokers.get(1)
    assert.ok(broker !== undefined)
    const child = spawn(process.execPath, [BIN, '--bootstrap', broker.bootstrap, ...args],
      { cwd: REPO_ROOT, timeout: 30_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    child.once('error', reject)
    child.once('close', status => resolve({ status, stdout, stderr }))
  })
  const json = async (args: string[]): Promise<any> => {
    const result = await cli(['--format', 'json', ...args])
    assert.equal(result.status, 0, result.stderr)
    return JSON.parse(result.stdout)
  }
  const scrape = async (nodeId: number): Promise<Map<string, number>> => {
    const broker = cluster.brokers.get(nodeId)
    assert.ok(broker !== undefined)
    const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text()
    const values = new Map<string, number>()
    for (const line of text.split('\n')) {
      const match = /^(tributary_\w+) (\S+)$/.exec(line)
      if (match !== null) values.set(match[1] as string, Number(match[2]))
    }
    return values
  }

  before(async () => {
    cluster = await startCluster(3)
    await eventually('an agreed view', () => agreedView(cluster, [1, 2, 3]))
    const client = cluster.clientOf(1)
    await client.createTopic('spread', { partitions: 3, replicationFactor: 3,
      configs: { 'min.insync.replicas': '2' } })
    await client.createTopic('strict', { partitions: 1, replicationFactor: 3,
      configs: { 'min.insync.replicas': '3' } })
    await client.createTopic('solo', { partitions: 3, replicationFactor: 1 })
  })
  after(async () => {
    await cluster?.stop()
  })

  it('is healthy with every replica in sync', async () => {
    await eventually('the topics on broker 1', async () =>
      (await metadataFrom(cluster, 1, ['spread', 'strict', 'solo'])).topics
        .every(t => t.errorCode === 0) ? true : undefined)
    const health = await cli(['cluster', 'health'])
    assert.equal(health.status, 0, health.stderr)
    assert.match(health.stdout, /^healthy: 3 broker\(s\), \d+ partition\(s\)/)
    const all = await json(['topic', 'describe'])
    assert.deepEqual(all.map((t: any) => t.topic).filter((n: string) => !n.startsWith('__')),
      ['solo', 'spread', 'strict'], 'without a name, every topic')
    assert.equal(all.find((t: any) => t.topic === 'spread').partitions[0].isrNodes.length, 3)
    assert.deepEqual(await json(['topic', 'describe', '--under-replicated-partitions']), [])
    assert.deepEqual(await json(['topic', 'describe', '--unavailable-partitions']), [])
    // At min ISR: strict (3 of 3), and every RF=1 partition (1 of the default 1), not spread.
    const atMin = await json(['topic', 'describe', '--at-min-isr-partitions'])
    assert.deepEqual(atMin.map((p: any) => `${p.topic}-${p.partition}`)
      .filter((name: string) => !name.startsWith('__')),
    ['solo-0', 'solo-1', 'solo-2', 'strict-0'])
    const both = await cli(['topic', 'describe', '--unavailable-partitions',
      '--at-min-isr-partitions'])
    assert.equal(both.status, 2)
    const leaders = await Promise.all([1, 2, 3].map(async id =>
      (await scrape(id)).get('tributary_partition_leaders') ?? -1))
    // 7 partitions plus __consumer_offsets' 3, every one led by a live broker.
    assert.equal(leaders.reduce((a, b) => a + b, 0), 10, `leaders per broker: ${leaders}`)
  })

  it('reports under-replicated, unavailable and under-min-ISR partitions once a broker dies',
    async t => {
      const solo = (await metadataFrom(cluster, 1, ['solo'])).topics[0]
      const onThree = solo?.partitions.filter(p => p.leaderId === 3)
        .map(p => `solo-${p.partitionIndex}`) ?? []
      assert.ok(onThree.length > 0, 'placement puts a solo partition on broker 3')
      const shrinks = async (): Promise<number> => {
        const scraped = await Promise.all([1, 2].map(scrape))
        return scraped.reduce((total, m) => total + (m.get('tributary_isr_shrinks_total') ?? 0), 0)
      }
      const shrinksBefore = await shrinks()
      await cluster.brokers.get(3)?.kill()
      const started = Date.now()
      const under = await eventually('broker 3 out of the ISRs', async () => {
        const rows = await json(['topic', 'describe', '--under-replicated-partitions'])
        return rows.length >= 4 ? rows : undefined
      }, 30_000)
      t.diagnostic(`under-replicated after ${Date.now() - started} ms`)
      const names = (rows: any[]): string[] => rows.map(p => `${p.topic}-${p.partition}`)
      // Every RF=3 partition lost a replica (RF=1 ones keep their only member in the ISR).
      assert.deepEqual(names(under).filter(n => !n.startsWith('__')),
        ['spread-0', 'spread-1', 'spread-2', 'strict-0'])
      assert.ok(under.every((p: any) => !p.isr.includes(3)))
      assert.deepEqual(names(await json(['topic', 'describe', 'solo',
        '--unavailable-partitions'])), onThree)
      const underMin = names(await json(['topic', 'describe', '--under-min-isr-partitions']))
      assert.deepEqual(underMin.filter(n => !n.startsWith('__')), [...onThree, 'strict-0'].sort())
      assert.deepEqual(names(await json(['topic', 'describe', 'spread',
        '--at-min-isr-partitions'])), ['spread-0', 'spread-1', 'spread-2'])
      const text = await cli(['topic', 'describe', 'strict', '--under-replicated-partitions'])
      assert.match(text.stdout, /^\tTopic: strict\tPartition: 0\tLeader: [12]\tReplicas: .*\t/)

      const health = await cli(['cluster', 'health'])
      assert.equal(health.status, 3)
      const line = health.stderr.trim()
      assert.equal(line.split('\n').length, 1, line)
      assert.match(line, new RegExp('^tributary: unhealthy: \\d+ offline partition\\(s\\) ' +
        '\\(.*solo-\\d.*\\); 1 partition\\(s\\) under min ISR \\(strict-0\\)$'))

      const metrics = await Promise.all([1, 2].map(scrape))
      const sum = (name: string): number =>
        metrics.reduce((total, m) => total + (m.get(name) ?? 0), 0)
      assert.equal(sum('tributary_under_min_isr_partitions'), 1, 'strict-0, on its leader')
      assert.ok(sum('tributary_under_replicated_partitions') >= 4)
      // Offline partitions are reported by the active controller alone.
      const offline = metrics.map(m => m.get('tributary_offline_partitions'))
      assert.equal(offline.reduce((a = 0, b = 0) => a + b, 0), onThree.length +
        offlineInternal(await metadataFrom(cluster, 1, null)))
      assert.ok(offline.includes(0), `one broker is not the controller: ${offline}`)
      // The spread partitions broker 1 or 2 led kept their leader and lost broker 3.
      assert.ok(await shrinks() > shrinksBefore)
    })
})

/** __consumer_offsets partitions that were led by broker 3 alone are offline too (RF=1). */
function offlineInternal (metadata: Awaited<ReturnType<typeof metadataFrom>>): number {
  let count = 0
  for (const topic of metadata.topics) {
    if (topic.name !== '__consumer_offsets') continue
    for (const p of topic.partitions) {
      if (p.leaderId === -1 || !metadata.brokers.some(b => b.nodeId === p.leaderId)) count++
    }
  }
  return count
}
