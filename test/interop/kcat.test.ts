/**
 * librdkafka interop through kcat (Debian package `kcat`): metadata, produce with lz4 and
 * snappy, consume back byte for byte, and offsets for timestamps. Skipped with a message when
 * kcat is not installed (.ci/run installs it).
 */
import { spawn, spawnSync } from 'node:child_process'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'

const kcatAvailable = spawnSync('kcat', ['-V']).status === 0
const LINES = 10_000

function kcat (args: string[], input?: string, timeoutMs = 60_000):
Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`kcat ${args.join(' ')} timed out; stderr: ${stderr}`))
    }, timeoutMs)
    child.stdout.on('data', chunk => { stdout += chunk.toString() })
    child.stderr.on('data', chunk => { stderr += chunk.toString() })
    child.on('exit', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(input ?? '')
  })
}

function linesFor (codec: string): string[] {
  return Array.from({ length: LINES }, (_, i) =>
    `${codec} line ${i} ${'x'.repeat(i % 97)} ${Math.sin(i).toFixed(6)}`)
}

describe('kcat (librdkafka 2.0) against a Tributary broker', { skip: !kcatAvailable && 'kcat is not installed' }, () => {
  let broker: BrokerProcess
  before(async () => { broker = await startBroker() })
  after(async () => {
    await broker.stop()
    await removeDataDir(broker.dataDir)
  })

  it('lists the broker and topics with -L', async () => {
    await kcat(['-b', broker.bootstrap, '-P', '-t', 'kcat-meta'], 'hello\n')
    const result = await kcat(['-b', broker.bootstrap, '-L', '-J'])
    assert.equal(result.code, 0, result.stderr)
    const metadata = JSON.parse(result.stdout) as {
      brokers: { id: number, name: string }[], topics: { topic: string }[]
    }
    assert.deepEqual(metadata.brokers.map(b => b.name), [`127.0.0.1:${broker.kafkaPort}`])
    assert.ok(metadata.topics.some(topic => topic.topic === 'kcat-meta'))
  })

  for (const codec of ['lz4', 'snappy']) {
    it(`produces ${LINES} lines with -z ${codec} and consumes them back byte for byte`,
      async () => {
        const topic = `kcat-${codec}`
        const lines = linesFor(codec)
        const produced = await kcat(['-b', broker.bootstrap, '-P', '-t', topic, '-p', '0',
          '-z', codec, '-X', 'enable.idempotence=true'], lines.join('\n') + '\n')
        assert.equal(produced.code, 0, produced.stderr)
        const consumed = await kcat(['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0',
          '-o', 'beginning', '-e', '-f', '%o %s\\n'])
        assert.equal(consumed.code, 0, consumed.stderr)
        const got = consumed.stdout.split('\n').filter(line => line !== '')
        assert.equal(got.length, LINES)
        got.forEach((line, i) => {
          assert.equal(line, `${i} ${lines[i]}`)
        })
      })
  }

  it('answers offsets for timestamps with -Q', async () => {
    const topic = 'kcat-times'
    const before = Date.now()
    await kcat(['-b', broker.bootstrap, '-P', '-t', topic, '-p', '0'], 'a\nb\nc\n')
    await new Promise(resolve => setTimeout(resolve, 20))
    const middle = Date.now()
    await kcat(['-b', broker.bootstrap, '-P', '-t', topic, '-p', '0'], 'd\ne\n')
    const early = await kcat(['-b', broker.bootstrap, '-Q', '-t', `${topic}:0:${before - 1000}`])
    assert.equal(early.code, 0, early.stderr)
    assert.match(early.stdout, /offset 0\b/)
    const late = await kcat(['-b', broker.bootstrap, '-Q', '-t', `${topic}:0:${middle}`])
    assert.match(late.stdout, /offset 3\b/)
    const future = await kcat(['-b', broker.bootstrap, '-Q', '-t',
      `${topic}:0:${Date.now() + 3_600_000}`])
    assert.match(future.stdout, /offset -1\b/)
  })
})
