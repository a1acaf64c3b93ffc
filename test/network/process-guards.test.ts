/**
 * The process guards in a real child process: a stray exception or rejection is logged and the
 * process keeps serving; an AssertionError from a request handler stops it with exit code 1.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assertion-fixture.js')

function request (correlationId: number): Buffer {
  const frame = Buffer.alloc(14)
  frame.writeInt32BE(10, 0)
  frame.writeInt16BE(60, 4)
  frame.writeInt16BE(0, 6)
  frame.writeInt32BE(correlationId, 8)
  frame.writeInt16BE(-1, 12)
  return frame
}

async function runFixture (mode: string, requests: number): Promise<{ code: number | null,
  output: string, answers: number }> {
  const child = spawn(process.execPath, [FIXTURE, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr.on('data', chunk => { output += String(chunk) })
  const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', chunk => {
      output += String(chunk)
      const match = /port (\d+)/.exec(output)
      if (match !== null) resolve(Number(match[1]))
    })
    void exited.then(code => reject(new Error(`fixture exited ${code}: ${output}`)))
  })
  let answers = 0
  const socket = net.connect({ host: '127.0.0.1', port })
  socket.on('error', () => undefined)
  socket.on('data', chunk => { answers += chunk.length > 0 ? 1 : 0 })
  for (let i = 0; i < requests; i++) {
    socket.write(request(i))
    await new Promise(resolve => setTimeout(resolve, 150))
  }
  socket.destroy()
  if (mode !== 'assert') child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  const code = await exited
  clearTimeout(timer)
  return { code, output, answers }
}

describe('process guards', () => {
  it('log a stray exception or rejection and keep serving', async () => {
    const { output, answers } = await runFixture('survive', 3)
    assert.equal(answers, 3, output)
    assert.match(output, /uncaught exception \(the broker keeps running\): Error: a timer/)
    assert.match(output, /unhandled rejection \(the broker keeps running\): Error: a promise/)
  })

  it('exit 1 with a clear line when an invariant breaks in a request handler', async () => {
    const { code, output } = await runFixture('assert', 1)
    assert.equal(code, 1, output)
    assert.match(output, /invariant broken .*the test broke an invariant/)
  })
})
