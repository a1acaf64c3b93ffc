/**
 * `node dist/bench/load.js compaction`, shortened: it exits 0, prints its summary and writes a
 * JSON report whose counts hold up (the cleaning removed records and space; both latency runs
 * appended). Speed is never asserted.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../support/broker-process.js'
import { STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'

const run = promisify(execFile)

describe('compaction bench', () => {
  it('cleans a log of keys × updates and reports throughput, space and latency', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'tributary-bench-compaction-'))
    try {
      const { stdout } = await run(process.execPath, [...STEADY_LOAD_NODE_FLAGS,
        path.join(REPO_ROOT, 'dist/bench/load.js'),
        'compaction', '--keys', '500', '--updates', '8', '--latency-seconds', '0.5',
        '--out', out], { cwd: REPO_ROOT, timeout: 120_000 })
      assert.match(stdout, /^disk: write \d+ MB\/s, read \d+ MB\/s$/m)
      assert.match(stdout, /^produce latency \(fsync before ack\): p50 /m)
      const [file] = (await readdir(out)).filter(name => name.endsWith('.json'))
      assert.ok(file !== undefined)
      const report = JSON.parse(await readFile(path.join(out, file), 'utf8'))
      assert.ok(report.cleaning.recordsRemoved > 0)
      assert.ok(report.cleaning.sizeAfter < report.cleaning.sizeBefore)
      assert.ok(report.produceLatencyMs.withoutCleaner.count > 0)
      assert.ok(report.produceLatencyMs.withCleaner.count > 0)
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })
})
