/**
 * Starts a real broker process (`node bin/tributary.js broker`) on ephemeral ports with a
 * temporary data directory, for integration tests. The broker prints one ready line naming its
 * addresses; this parses it. Every process started is killed when the test process exits, even
 * if a test forgets to stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const BIN = path.join(REPO_ROOT, 'bin/tributary.js')

const READY_PATTERN = /ready: kafka=([\d.]+):(\d+) http=([\d.]+):(\d+)/
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export interface BrokerProcess {
  child: ChildProcess
  dataDir: string
  kafkaPort: number
  httpPort: number
  bootstrap: string
  output: () => string
  /** SIGTERM and wait for exit; returns the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
  /** SIGKILL and wait. */
  kill: () => Promise<void>
}

export interface StartOptions {
  dataDir?: string
  args?: string[]
  env?: Record<string, string>
  kafkaPort?: number
  httpPort?: number
  readyTimeoutMs?: number
  /**
   * Flags for node itself, before the script (e.g. --cpu-prof, not allowed in NODE_OPTIONS);
   * default the ones a broker is started with (STEADY_LOAD_NODE_FLAGS).
   */
  nodeArgs?: readonly string[]
  /** Keep only this many trailing bytes of output (a long run's logs stay bounded). */
  outputTailBytes?: number
  /** Another build's bin/tributary.js (the benchmark's paired A/B runs); default this one's. */
  bin?: string
}

export async function makeDataDir (prefix = 'tributary-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix))
}

export async function removeDataDir (dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true })
}

/**
 * Starts a broker and waits for its ready line. A data directory it made itself (no
 * `dataDir` given) is removed again when the start fails, as nobody else knows its name.
 */
export async function startBroker (options: StartOptions = {}): Promise<BrokerProcess> {
  if (options.dataDir !== undefined) return startBrokerIn(options.dataDir, options)
  const dataDir = await makeDataDir()
  try {
    return await startBrokerIn(dataDir, options)
  } catch (error) {
    await removeDataDir(dataDir)
    throw error
  }
}

async function startBrokerIn (dataDir: string, options: StartOptions): Promise<BrokerProcess> {
  const args = [...(options.nodeArgs ?? STEADY_LOAD_NODE_FLAGS), options.bin ?? BIN, 'broker',
    '--data-dir', dataDir,
    '--port', String(options.kafkaPort ?? 0), '--http-port', String(options.httpPort ?? 0),
    ...(options.args ?? [])]
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let output = ''
  const exited = new Promise<number | null>(resolve => {
    child.once('exit', code => {
      live.delete(child)
      resolve(code)
    })
  })
  const ready = await new Promise<RegExpMatchArray>((resolve, reject) => {
    let timedOut = false
    const timer = setTimeout(() => {
      // Killed, so that nothing writes to a data directory the caller may now remove.
      timedOut = true
      child.kill('SIGKILL')
    }, options.readyTimeoutMs ?? 20000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const tail = options.outputTailBytes
      if (tail !== undefined && output.length > 2 * tail) output = output.slice(-tail)
      const match = READY_PATTERN.exec(output)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then(code => {
      clearTimeout(timer)
      reject(new Error(timedOut
        ? `broker not ready within ${options.readyTimeoutMs ?? 20000} ms:\n${output}`
        : `broker exited with ${code} before it was ready:\n${output}`))
    })
  })
  const kafkaPort = Number(ready[2])
  const httpPort = Number(ready[4])
  return {
    child,
    dataDir,
    kafkaPort,
    httpPort,
    bootstrap: `127.0.0.1:${kafkaPort}`,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill(signal)
      return exited
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
