/**
 * The data-directory lock across processes: while a writer process holds it, a LogManager in
 * another process is refused with one line naming the holder; once the holder is SIGKILLed,
 * the lock is taken over at once (no waiting for proper-lockfile's staleness timeout).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { LogDirLockedError, LogManager } from '../../src/storage/log-manager.js'
import { CrashTally } from '../support/crash-tally.js'

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'storage-writer.js')
const tally = new CrashTally('data directory lock case')
after(() => tally.print())

describe('data directory lock', () => {
  it('refuses a second process with one line, and is taken over after a SIGKILL', () =>
    tally.run('lock', async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-lock-'))
      const child = spawn(process.execPath, [WRITER, dataDir, '0', 'plain'],
        { stdio: ['ignore', 'pipe', 'inherit'] })
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', chunk => { if (String(chunk).includes('READY')) resolve() })
          child.once('exit', code => reject(new Error(`writer exited with ${String(code)}`)))
        })
        await assert.rejects(LogManager.open({ dataDir, nodeId: 1 }), (error: unknown) => {
          assert.ok(error instanceof LogDirLockedError)
          assert.equal(error.message,
            `another broker holds the lock on ${dataDir} (pid ${String(child.pid)})`)
          assert.doesNotMatch(error.message, /\n/)
          return true
        })
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
        const started = performance.now()
        const manager = await LogManager.open({ dataDir, nodeId: 1 })
        assert.ok(performance.now() - started < 5000, 'taken over without waiting for staleness')
        assert.ok((manager.getLog('crash', 0)?.logEndOffset ?? 0) >= 0)
        await manager.close()
      } finally {
        child.kill('SIGKILL')
        await rm(dataDir, { recursive: true, force: true })
      }
    }))
})
