/**
 * The `tributary broker` command contract: the ready line, /healthz and /readyz, a clean
 * SIGTERM/SIGINT shutdown with exit 0 within 5 s, the data-directory lock, and one-line errors
 * for bad configuration.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import {
  BIN, makeDataDir, removeDataDir, REPO_ROOT, startBroker,
} from '../support/broker-process.js'

function runCli (args: string[], env: Record<string, string> = {}):
{ status: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('tributary broker', () => {
  it('prints a ready line, serves /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const broker = await startBroker()
    try {
      assert.match(broker.output(), /Tributary broker 1 ready: kafka=127\.0\.0\.1:\d+ http=/)
      const health = await fetch(`http://127.0.0.1:${broker.httpPort}/healthz`)
      assert.equal(health.status, 200)
      const ready = await fetch(`http://127.0.0.1:${broker.httpPort}/readyz`)
      assert.equal(ready.status, 200)
      const started = Date.now()
      assert.equal(await broker.stop('SIGTERM'), 0)
      assert.ok(Date.now() - started < 5000, 'shutdown within 5 s')
    } finally {
      await broker.kill()
      await removeDataDir(broker.dataDir)
    }
  })

  it('exits 0 on SIGINT too', async () => {
    const broker = await startBroker()
    try {
      assert.equal(await broker.stop('SIGINT'), 0)
    } finally {
      await removeDataDir(broker.dataDir)
    }
  })

  it('refuses a second broker on the same data directory with one clear line', async () => {
    const first = await startBroker()
    try {
      const second = runCli(['broker', '--data-dir', first.dataDir, '--port', '0',
        '--http-port', '0'])
      assert.notEqual(second.status, 0)
      const lines = second.stderr.trim().split('\n')
      assert.equal(lines.length, 1, second.stderr)
      assert.match(lines[0] ?? '', /another broker/i)
    } finally {
      await first.stop()
      await removeDataDir(first.dataDir)
    }
  })

  it('stops at start-up with one line naming an unknown property', async () => {
    const dataDir = await makeDataDir()
    try {
      const properties = path.join(dataDir, 'broker.properties')
      await writeFile(properties, 'log.segment.bytes=1048576\nno.such.property=1\n')
      const result = runCli(['broker', '--data-dir', path.join(dataDir, 'd'), '--config',
        properties, '--port', '0', '--http-port', '0'])
      assert.notEqual(result.status, 0)
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
      assert.match(result.stderr, /no\.such\.property/)
    } finally {
      await removeDataDir(dataDir)
    }
  })

  it('stops at start-up with one line naming a property whose value is invalid', async () => {
    const dataDir = await makeDataDir()
    try {
      const result = runCli(['broker', '--data-dir', dataDir, '--port', '0', '--http-port', '0'],
        { TRIBUTARY_NUM_PARTITIONS: 'many' })
      assert.notEqual(result.status, 0)
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
      assert.match(result.stderr, /num\.partitions/)
    } finally {
      await removeDataDir(dataDir)
    }
  })
})
