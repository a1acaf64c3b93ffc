/**
 * The workload of the replication fault tests: an idempotent acks=all kafkajs producer writing
 * numbered messages (and, where kcat is installed, kcat/librdkafka as a second idempotent
 * acks=all producer: kcat-producer.ts), and a kafkajs consumer group reading them, both
 * recording exactly what happened so the checker (replication-checks.ts) can compare it with
 * what the cluster kept.
 *
 * The producer runs `loops` sender loops (as many as its maxInFlightRequests); each loop sends
 * one small batch at a time to a seeded partition among its own and awaits it, so within one
 * loop and one partition the messages must appear in the order they were sent.
 *
 * Each partition belongs to one loop: kafkajs 2.2's idempotent producer numbers a partition's
 * batches from one counter and, when a request fails, winds the counter back by that request's
 * records, even if a concurrent send to the same partition (on the new leader after a leader
 * change; its lock is per broker) took later numbers meanwhile. Two batches then carry the same
 * sequence: the broker rightly stores the first and answers the second as a duplicate, so an
 * acknowledged message is missing and a retried one is stored twice under two sequences (seen
 * with seed 1, REPLICATION_FAULTS_LOOPS=4, before this rule). That is the client's bug, not
 * the broker's, so the workload never has two sends to one partition in flight. Message value:
 * `<loop>:<id>`, ids unique over the run. The workload can be paused (the checks read the
 * cluster while nothing is being acknowledged) and resumed.
 */
import kafkajs from 'kafkajs'
import { KcatProducer, within } from './kcat-producer.js'

const { Kafka, logLevel } = kafkajs

export interface SendRecord {
  ids: number[]
  loop: number
  partition: number
  startedMs: number
  ackedMs?: number
  error?: string
}

export interface ConsumedRecord { partition: number, offset: number, value: string }

export interface WorkloadOptions {
  bootstrap: () => string[]
  topic: string
  partitions: number
  loops: number
  random: () => number
  /** Pause between one loop's sends (keeps the volume checkable). */
  sendGapMs?: number
  /** Also run kcat (librdkafka, idempotent, acks=all) on this partition. */
  kcatPartition?: number
}

const sleep = async (ms: number): Promise<void> =>
  new Promise(resolve => setTimeout(resolve, ms))

export class Workload {
  readonly sends: SendRecord[] = []
  /** partition → offset → value the consumer group delivered (the first time). */
  readonly consumed = new Map<number, Map<number, string>>()
  /** The group delivered a different value at an offset it had delivered before. */
  readonly consumedConflicts: string[] = []
  readonly #options: WorkloadOptions
  readonly #kafka: kafkajs.Kafka
  readonly #producer: kafkajs.Producer
  readonly #consumer: kafkajs.Consumer
  readonly #loops: Promise<void>[] = []
  readonly #kcat: KcatProducer | undefined
  #nextId = 0
  #running = true
  #paused = false
  #parked = 0

  constructor (options: WorkloadOptions) {
    if (options.loops > options.partitions) {
      throw new Error(`${options.loops} sender loops need as many partitions ` +
        `(${options.partitions})`)
    }
    this.#options = options
    this.#kafka = new Kafka({
      clientId: 'replication-faults', logLevel: logLevel.NOTHING, brokers: options.bootstrap,
      connectionTimeout: 3_000, requestTimeout: 10_000,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1_000 },
    })
    this.#producer = this.#kafka.producer({
      idempotent: true, maxInFlightRequests: options.loops,
      // Long enough to ride out an election or two brokers being down; the per-send timeout
      // below is the broker's acks=all wait.
      retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1_000 },
    })
    this.#kcat = options.kcatPartition === undefined
      ? undefined
      : new KcatProducer({ bootstrap: options.bootstrap(), topic: options.topic,
        partition: options.kcatPartition, sends: this.sends, nextId: () => this.#nextId++ })
    this.#consumer = this.#kafka.consumer({
      groupId: 'replication-fault-readers', sessionTimeout: 10_000, heartbeatInterval: 1_000,
      maxWaitTimeInMs: 200,
      // Restart after a crash only while the workload runs: a restart scheduled as it stops
      // would retry against stopped brokers and keep the test process alive.
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1_000,
        restartOnFailure: async () => this.#running },
    })
  }

  async start (): Promise<void> {
    await this.#producer.connect()
    await this.#consumer.connect()
    await this.#consumer.subscribe({ topic: this.#options.topic, fromBeginning: true })
    await this.#consumer.run({
      eachMessage: async ({ partition, message }) => this.#consumed(partition,
        Number(message.offset), message.value?.toString() ?? ''),
    })
    for (let loop = 0; loop < this.#options.loops; loop++) this.#loops.push(this.#run(loop))
    this.#kcat?.start()
  }

  /** kcat ran and is still running (undefined: no kcat in this run). */
  get kcatAlive (): boolean | undefined {
    return this.#kcat === undefined ? undefined : !this.#kcat.died
  }

  get kcatDiagnostics (): string {
    return this.#kcat?.diagnostics ?? ''
  }

  #consumed (partition: number, offset: number, value: string): void {
    let offsets = this.consumed.get(partition)
    if (offsets === undefined) this.consumed.set(partition, offsets = new Map())
    const before = offsets.get(offset)
    if (before === undefined) offsets.set(offset, value)
    else if (before !== value) {
      this.consumedConflicts.push(`partition ${partition} offset ${offset}: first ` +
        `${before}, later ${value}`)
    }
  }

  async #run (loop: number): Promise<void> {
    const random = this.#options.random
    while (this.#running) {
      if (this.#paused) {
        this.#parked++
        while (this.#paused && this.#running) await sleep(20)
        this.#parked--
        continue
      }
      const owned = this.#ownedPartitions(loop)
      const partition = owned[Math.floor(random() * owned.length)] as number
      const count = 1 + Math.floor(random() * 5)
      const ids = Array.from({ length: count }, () => this.#nextId++)
      const send: SendRecord = { ids, loop, partition, startedMs: Date.now() }
      this.sends.push(send)
      try {
        await this.#producer.send({
          topic: this.#options.topic, acks: -1, timeout: 5_000,
          messages: ids.map(id => ({ partition, value: `${loop}:${id}` })),
        })
        send.ackedMs = Date.now()
      } catch (error) {
        send.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      }
      await sleep(this.#options.sendGapMs ?? 20)
    }
  }

  /** Loop `loop`'s partitions: those congruent to it modulo the number of loops. */
  #ownedPartitions (loop: number): number[] {
    return Array.from({ length: this.#options.partitions }, (_, p) => p)
      .filter(p => p % this.#options.loops === loop)
  }

  /** Stops sending and waits (at most `timeoutMs`) until no send is in flight. */
  async pause (timeoutMs = 90_000): Promise<boolean> {
    this.#paused = true
    const deadline = Date.now() + timeoutMs
    const kcat = this.#kcat?.pause(timeoutMs) ?? Promise.resolve(true)
    while (this.#parked < this.#loops.length) {
      if (Date.now() > deadline) return false
      await sleep(20)
    }
    return kcat
  }

  resume (): void {
    this.#paused = false
    this.#kcat?.resume()
  }

  get loops (): number {
    return this.#options.loops
  }

  get acknowledged (): number {
    return this.sends.filter(send => send.ackedMs !== undefined)
      .reduce((sum, send) => sum + send.ids.length, 0)
  }

  /** Records the group delivered (each offset once). */
  get consumedCount (): number {
    return [...this.consumed.values()].reduce((sum, offsets) => sum + offsets.size, 0)
  }

  async stop (): Promise<void> {
    this.#running = false
    await this.#kcat?.stop()
    await within(Promise.all(this.#loops), 5_000)
    await this.#consumer.disconnect().catch(() => undefined)
    await this.#producer.disconnect().catch(() => undefined)
  }
}
