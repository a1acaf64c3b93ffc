/**
 * The CLI as people use it: `--version`, a default on every option's help line, `produce`
 * reporting what it wrote (quiet with -q), `group describe` sorting partitions as numbers, and
 * `topic delete-records` out of range naming the valid range.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Command } from 'commander'
import kafkajs from 'kafkajs'
import { createProgram } from '../../src/cli/index.js'
import {
  BIN, REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'

const { Kafka, logLevel } = kafkajs
let broker: BrokerProcess

function cli (args: string[], input = ''): { status: number | null, stdout: string,
  stderr: string } {
  const result = spawnSync(process.execPath, [BIN, '--bootstrap', broker.bootstrap, ...args], {
    cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 30_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('tributary without a broker', () => {
  it('prints its version with --version and -V', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as
      { version: string }
    for (const flag of ['--version', '-V']) {
      const result = spawnSync(process.execPath, [BIN, flag], { encoding: 'utf8' })
      assert.equal(result.status, 0, result.stderr)
      assert.equal(result.stdout.trim(), pkg.version)
    }
  })

  it('shows a default for every option, or says it is required', () => {
    const missing: string[] = []
    const walk = (command: Command, name: string): void => {
      for (const option of command.options) {
        if (option.long === '--version') continue
        if (option.mandatory) {
          if (!/\(required\)/.test(option.description)) missing.push(`${name} ${option.flags}`)
          continue
        }
        if (option.defaultValue === undefined && !/default: /.test(option.description)) {
          missing.push(`${name} ${option.flags}`)
        }
      }
      for (const sub of command.commands) walk(sub, `${name} ${sub.name()}`)
    }
    walk(createProgram('0.0.0'), 'tributary')
    assert.deepEqual(missing, [])
    const help = spawnSync(process.execPath, [BIN, 'broker', '--help'], { encoding: 'utf8' })
    assert.match(help.stdout, /--port <port>[\s\S]*default: 9092/)
  })
})

describe('tributary against a broker', () => {
  before(async () => {
    broker = await startBroker({ env: { TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '1' } })
  })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('reports what produce wrote, and nothing with -q', () => {
    assert.equal(cli(['topic', 'create', 'report', '--partitions', '2']).status, 0)
    const lines = Array.from({ length: 5 }, (_, i) => `line ${i}`).join('\n') + '\n'
    const first = cli(['produce', 'report'], lines)
    assert.equal(first.status, 0, first.stderr)
    assert.match(first.stdout, /^Produced 5 records to report\.$/m)
    assert.match(first.stdout, /PARTITION\s+RECORDS\s+FIRST-OFFSET\s+LAST-OFFSET/)
    assert.match(first.stdout, /^0\s+3\s+0\s+2$/m)
    assert.match(first.stdout, /^1\s+2\s+0\s+1$/m)
    const json = JSON.parse(cli(['--format', 'json', 'produce', 'report', '-p', '1'],
      'a\nb\n').stdout)
    assert.deepEqual(json, { topic: 'report', produced: 2,
      partitions: [{ partition: 1, records: 2, firstOffset: 2, lastOffset: 3 }] })
    const quiet = cli(['produce', 'report', '-q'], 'x\n')
    assert.equal(quiet.status, 0, quiet.stderr)
    assert.equal(quiet.stdout, '')
    const unacknowledged = cli(['produce', 'report', '--acks', '0', '-p', '0'], 'y\n')
    assert.match(unacknowledged.stdout, /^0\s+1\s+-\s+-$/m)
  })

  it('sorts group describe by partition number', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    try {
      await admin.createTopics({ topics: [{ topic: 'many', numPartitions: 12 }] })
      await admin.setOffsets({ groupId: 'sorted', topic: 'many',
        partitions: Array.from({ length: 12 }, (_, partition) => ({ partition, offset: '0' })) })
    } finally {
      await admin.disconnect()
    }
    const described = JSON.parse(cli(['--format', 'json', 'group', 'describe', 'sorted']).stdout)
    const order = (described.partitions as { partition: number }[]).map(row => row.partition)
    assert.deepEqual(order, Array.from({ length: 12 }, (_, i) => i))
    const text = cli(['group', 'describe', 'sorted']).stdout
    const rows = text.split('\n').filter(line => line.startsWith('sorted '))
    assert.deepEqual(rows.map(line => Number(line.split(/\s+/)[2])), order)
    // Its siblings list partitions in the same order.
    const topic = cli(['topic', 'describe', 'many']).stdout
    assert.deepEqual([...topic.matchAll(/Partition: (\d+)/g)].map(m => Number(m[1])), order)
    const plan = JSON.parse(cli(['--format', 'json', 'group', 'reset-offsets', 'sorted',
      '--topic', 'many', '--to-latest']).stdout) as { plan: { partition: number }[] }
    assert.deepEqual(plan.plan.map(entry => entry.partition), order)
  })

  it('says the valid range when delete-records is out of range', () => {
    assert.equal(cli(['topic', 'create', 'trim', '--partitions', '1']).status, 0)
    assert.equal(cli(['produce', 'trim', '-q'], 'a\nb\nc\n').status, 0)
    assert.equal(cli(['topic', 'delete-records', 'trim', '-p', '0', '--offset', '1']).status, 0)
    const beyond = cli(['topic', 'delete-records', 'trim', '-p', '0', '--offset', '100'])
    assert.equal(beyond.status, 1)
    assert.equal(beyond.stderr.trim(), 'tributary: offset 100 is out of range for trim-0: ' +
      'records can be deleted below an offset from 1 (the log start offset) to 3 (the high ' +
      'watermark), or -1 for the high watermark')
  })
})
