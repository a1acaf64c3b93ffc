/**
 * The second producer of the replication fault run: kcat (librdkafka) with
 * `enable.idempotence=true` and `acks=all`, writing one partition from a line per message on
 * its stdin. librdkafka reports deliveries per partition in the order the messages were
 * produced, and kcat prints one line per report at verbosity 2 ("Message delivered to
 * partition P (offset O)" or "Delivery failed for message: ..."), so the n-th report is the
 * n-th message: that is how each message is known to be acknowledged or not.
 *
 * Messages are recorded in the workload's `sends` like the kafkajs ones (loop KCAT_LOOP), so the
 * checks treat both producers alike. At most IN_FLIGHT_MAX messages wait for a report.
 *
 * kcat polls for delivery reports only between lines of input, so a kcat left waiting for input
 * never reports its last messages: `pause` closes its stdin instead, which makes kcat flush,
 * report everything and exit, and `resume` starts a new kcat (a new idempotent producer).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import type { SendRecord } from './replication-workload.js'

/** The sender-loop number of kcat's messages (kafkajs loops are 0-4). */
export const KCAT_LOOP = 9
const IN_FLIGHT_MAX = 50
const DELIVERED = /^% Message delivered to partition/
const FAILED = /^% Delivery failed for message: (.*)$/

export function kcatAvailable (): boolean {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0
}

const sleep = async (ms: number): Promise<void> =>
  new Promise(resolve => setTimeout(resolve, ms))

/** `promise`, or undefined after `ms`; the timer ends with it (a finished run exits at once). */
export async function within<T> (promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<undefined>(resolve => {
    timer = setTimeout(() => resolve(undefined), ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

interface KcatOptions { bootstrap: string[], topic: string, partition: number,
  sends: SendRecord[], nextId: () => number }

export class KcatProducer {
  readonly #options: KcatOptions
  #child: ChildProcess | undefined
  #exited: Promise<void> = Promise.resolve()
  /** Sent messages awaiting their report, oldest first. */
  readonly #awaiting: SendRecord[] = []
  #running = true
  #paused = false
  #loop: Promise<void> | undefined
  #stderr = ''
  /** kcat exited while it should have been producing. */
  #died = false

  constructor (options: KcatOptions) {
    this.#options = options
  }

  #spawn (): void {
    const { bootstrap, topic, partition } = this.#options
    const child = spawn('kcat', ['-P', '-b', bootstrap.join(','), '-t', topic,
      '-p', String(partition), '-X', 'enable.idempotence=true', '-X', 'acks=all',
      '-X', 'message.timeout.ms=120000', '-X', 'linger.ms=5', '-v', '-v'],
    { stdio: ['pipe', 'ignore', 'pipe'] })
    this.#child = child
    this.#exited = new Promise(resolve => child.once('exit', () => {
      if (this.#child === child) this.#child = undefined
      if (this.#running && !this.#paused) this.#died = true
      // Whatever kcat never reported was neither acknowledged nor refused: it stays unacked.
      for (const send of this.#awaiting.splice(0)) send.error ??= 'kcat exited before reporting'
      resolve()
    }))
    child.stdin?.on('error', () => undefined)
    let pending = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) this.#report(line)
    })
  }

  #report (line: string): void {
    const failed = FAILED.exec(line)
    if (!DELIVERED.test(line) && failed === null) {
      if (this.#stderr.length < 10_000) this.#stderr += line + '\n'
      return
    }
    const send = this.#awaiting.shift()
    if (send === undefined) return
    if (failed === null) send.ackedMs = Date.now()
    else send.error = failed[1] ?? 'delivery failed'
  }

  start (): void {
    this.#spawn()
    this.#loop = this.#run()
  }

  async #run (): Promise<void> {
    while (this.#running) {
      const child = this.#child
      if (this.#paused || child === undefined || this.#awaiting.length >= IN_FLIGHT_MAX) {
        await sleep(20)
        continue
      }
      const id = this.#options.nextId()
      const send: SendRecord = { ids: [id], loop: KCAT_LOOP,
        partition: this.#options.partition, startedMs: Date.now() }
      this.#options.sends.push(send)
      this.#awaiting.push(send)
      child.stdin?.write(`${KCAT_LOOP}:${id}\n`)
      await sleep(20)
    }
  }

  /** Stops feeding; kcat flushes, reports every message and exits (within `timeoutMs`). */
  async pause (timeoutMs: number): Promise<boolean> {
    this.#paused = true
    return this.#end(timeoutMs)
  }

  resume (): void {
    this.#paused = false
    if (this.#running && this.#child === undefined) this.#spawn()
  }

  async #end (timeoutMs: number): Promise<boolean> {
    const child = this.#child
    if (child === undefined) return true
    child.stdin?.end()
    const ended = await within(this.#exited.then(() => true), timeoutMs) ?? false
    if (!ended) {
      child.kill('SIGKILL')
      await this.#exited
    }
    return ended
  }

  /** kcat's output other than delivery reports (its errors), for a failed run's report. */
  get diagnostics (): string {
    return this.#stderr
  }

  /** True when kcat exited on its own while it should have been producing. */
  get died (): boolean {
    return this.#died
  }

  async stop (): Promise<void> {
    this.#running = false
    await this.#loop
    await this.#end(10_000)
  }
}
