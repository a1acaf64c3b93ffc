/**
 * The crash scripts' writer child: runs `node <script> <args>` (a writer that prints `READY`,
 * then one line per acknowledged write), SIGKILLs it `killAfterMs` after READY, and hands every
 * complete stdout line to `onLine`. Resolves once the child is gone; a writer that exits by
 * itself (a crash of its own, not our kill) fails the cycle with its stderr.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'

export async function runWriterUntilKilled (script: string, args: string[],
  killAfterMs: number, onLine: (line: string) => void): Promise<void> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let buffered = ''
  let stderr = ''
  let killed = false
  child.stderr.on('data', chunk => { stderr += chunk.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.stdout.on('data', chunk => {
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      if (line === 'READY') {
        setTimeout(() => { killed = true; child.kill('SIGKILL') }, killAfterMs)
      }
      onLine(line)
    }
  })
  await exited
  assert.ok(killed, `the writer exited by itself: ${stderr}`)
}
