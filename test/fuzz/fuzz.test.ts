/**
 * Runs the structure-aware fuzzer (fuzz.ts) against a real broker: 60 s in CI
 * (CI=true), 5 s elsewhere. The fuzzer's own output (seed, failing batch, replay command,
 * broker log tail) is passed through, so a failure here says how to replay it.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'

const FUZZER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fuzz.js')
const SECONDS = process.env.CI === 'true' ? 60 : 5
/** Start-up, the last batch and shutdown on top of the fuzzing time. */
const SLACK_MS = 60_000

it(`the broker survives ${SECONDS} s of fuzzing`, { timeout: SECONDS * 1000 + SLACK_MS * 2 },
  async () => {
    const child = spawn(process.execPath, [FUZZER, '--seconds', String(SECONDS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', chunk => { output += chunk.toString() })
    child.stderr.on('data', chunk => { output += chunk.toString() })
    const timer = setTimeout(() => child.kill('SIGTERM'), SECONDS * 1000 + SLACK_MS)
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
    clearTimeout(timer)
    console.log(output.trimEnd())
    assert.equal(code, 0, `the fuzzer failed:\n${output}`)
    assert.match(output, /^fuzz: \d+ requests, \d+ connections, seed \d+, max RSS \d+ MiB$/m)
  })
