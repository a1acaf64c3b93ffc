/**
 * The second producer of the replication fault run: kcat (librdkafka) with
 * `enable.idempotence=true` and `acks=all`, writing one partition from a line per message on
 * its stdin. librdkafka reports deliveries per partition in the order the messages were
 * produced, and kcat prints one line per report at verbosity 2 ("Message delivered to
 * partition P (offset O)" or "Delivery failed for message: ..."), so the n-th report is the
 * n-th message: that is how each message is known to be acknowledged or not.
 *
 * Messages are recorded in the workload's `sends` like the kafkajs ones (loop KCAT_LOOP), so the
 * checks treat both producers alike. At most IN_FLIGHT_MAX messages wait for a report; `pause`
 * stops feeding and waits for every report.
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

export class KcatProducer {
  readonly #child: ChildProcess
  readonly #sends: SendRecord[]
  readonly #nextId: () => number
  readonly #partition: number
  /** Sent messages awaiting their report, oldest first. */
  readonly #awaiting: SendRecord[] = []
  #running = true
  #paused = false
  #loop: Promise<void> | undefined
  #stderr = ''
  #exited = false

  constructor (options: { bootstrap: string[], topic: string, partition: number,
    sends: SendRecord[], nextId: () => number }) {
    this.#sends = options.sends
    this.#nextId = options.nextId
    this.#partition = options.partition
    this.#child = spawn('kcat', ['-P', '-b', options.bootstrap.join(','), '-t', options.topic,
      '-p', String(options.partition), '-X', 'enable.idempotence=true', '-X', 'acks=all',
      '-X', 'message.timeout.ms=120000', '-X', 'linger.ms=5', '-v', '-v'],
    { stdio: ['pipe', 'ignore', 'pipe'] })
    this.#child.once('exit', () => { this.#exited = true })
    this.#child.stdin?.on('error', () => undefined)
    let pending = ''
    this.#child.stderr?.on('data', (chunk: Buffer) => {
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
    this.#loop = this.#run()
  }

  async #run (): Promise<void> {
    while (this.#running && !this.#exited) {
      if (this.#paused || this.#awaiting.length >= IN_FLIGHT_MAX) {
        await sleep(20)
        continue
      }
      const id = this.#nextId()
      const send: SendRecord = { ids: [id], loop: KCAT_LOOP, partition: this.#partition,
        startedMs: Date.now() }
      this.#sends.push(send)
      this.#awaiting.push(send)
      this.#child.stdin?.write(`${KCAT_LOOP}:${id}\n`)
      await sleep(20)
    }
  }

  /** Stops feeding and waits until every message sent has its report. */
  async pause (timeoutMs: number): Promise<boolean> {
    this.#paused = true
    const deadline = Date.now() + timeoutMs
    while (this.#awaiting.length > 0 && !this.#exited) {
      if (Date.now() > deadline) return false
      await sleep(20)
    }
    return true
  }

  resume (): void {
    this.#paused = false
  }

  /** kcat's output other than delivery reports (its errors), for a failed run's report. */
  get diagnostics (): string {
    return this.#stderr
  }

  get exited (): boolean {
    return this.#exited
  }

  async stop (): Promise<void> {
    this.#running = false
    await this.#loop
    this.#child.stdin?.end()
    const exited = new Promise<void>(resolve => {
      if (this.#exited) resolve()
      else this.#child.once('exit', () => resolve())
    })
    await Promise.race([exited, sleep(10_000)])
    if (!this.#exited) this.#child.kill('SIGKILL')
  }
}
