/**
 * kafka-python 2.0 interop (Debian package `python3-kafka`): the admin client creates and lists
 * a topic, a gzip producer with acks=all writes keyed records with headers, a consumer group
 * reads every one back at its acknowledged partition and offset and commits, and the same group
 * resumes from the committed offsets. The client side is test/interop/kafka_python_client.py.
 * Skipped with a message when no python3 can import kafka (.ci/run installs it).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'
import { pythonWith } from './client-harness.js'

const SCRIPT = path.join(REPO_ROOT, 'test/interop/kafka_python_client.py')
const RECORDS = 3000
const TIMEOUT_MS = 180_000

const python = pythonWith('kafka')

interface Acked { value: string, partition: number, offset: number }
interface Consumed extends Acked { key: string, headers: [string, string][] }
interface Report {
  apiVersion: number[]
  topics: string[]
  acks: Acked[]
  first: Consumed[]
  lateAcks: Acked[]
  second: Consumed[]
  groups: [string, string][]
}

function runClient (bootstrap: string, topic: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(python as string, [SCRIPT, bootstrap, topic, String(RECORDS)],
      { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`kafka-python client timed out; stderr: ${stderr}`))
    }, TIMEOUT_MS)
    child.stdout.on('data', chunk => { stdout += chunk.toString() })
    child.stderr.on('data', chunk => { stderr += chunk.toString() })
    child.on('exit', code => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`kafka-python client exited ${code}: ${stderr}`))
      else resolve(JSON.parse(stdout) as Report)
    })
  })
}

/** Acknowledged offsets per partition run 0, 1, 2, ... with no gap and no duplicate. */
function assertContiguous (acks: readonly Acked[]): void {
  const byPartition = new Map<number, number[]>()
  for (const ack of acks) {
    byPartition.set(ack.partition, [...byPartition.get(ack.partition) ?? [], ack.offset])
  }
  for (const [partition, offsets] of byPartition) {
    const sorted = [...offsets].sort((a, b) => a - b)
    assert.deepEqual(sorted, sorted.map((_, i) => i), `offsets of partition ${partition}`)
  }
}

describe('kafka-python 2.0 against a Tributary broker',
  { skip: python === undefined && 'kafka-python (python3-kafka) is not installed' }, () => {
    let broker: BrokerProcess
    let report: Report
    before(async () => {
      broker = await startBroker()
      report = await runClient(broker.bootstrap, 'kafka-python')
    })
    after(async () => {
      await broker.stop()
      await removeDataDir(broker.dataDir)
    })

    it('infers a broker of Kafka 2.1 or later, so it writes RecordBatch v2 with Produce v7', () => {
      const [major = 0, minor = 0] = report.apiVersion
      assert.ok(major > 2 || (major === 2 && minor >= 1), `inferred ${report.apiVersion.join('.')}`)
    })

    it('creates and lists a topic with the admin client', () => {
      assert.ok(report.topics.includes('kafka-python'), report.topics.join(', '))
    })

    it('acknowledges every record of a gzip acks=all producer at contiguous offsets', () => {
      assert.equal(report.acks.length, RECORDS)
      assert.deepEqual(new Set(report.acks.map(ack => ack.partition)), new Set([0, 1, 2]))
      assertContiguous(report.acks)
    })

    it('reads every record back in a group at its acknowledged place, with key and header', () => {
      assert.equal(report.first.length, RECORDS)
      const acked = new Map(report.acks.map(ack => [ack.value, ack]))
      for (const record of report.first) {
        const ack = acked.get(record.value)
        assert.ok(ack !== undefined, `unexpected value ${record.value}`)
        assert.deepEqual([record.partition, record.offset], [ack.partition, ack.offset])
        const index = Number(record.value.slice('value-'.length))
        assert.equal(record.key, `key-${index % 17}`)
        assert.deepEqual(record.headers, [['n', String(index)]])
        acked.delete(record.value)
      }
      assert.equal(acked.size, 0, 'every acknowledged record was read once')
    })

    it('resumes the group from its committed offsets', () => {
      assert.deepEqual(report.second.map(r => r.value).sort(),
        report.lateAcks.map(ack => ack.value).sort())
      assert.ok(report.groups.some(([group]) => group === 'interop-kafka-python'),
        JSON.stringify(report.groups))
    })
  })
