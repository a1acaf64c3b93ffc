/**
 * IdempotentProducer: an idempotent producer (KIP-98) on the lean client, for the crash tests
 * and any tool that must not write a retried batch twice.
 *
 * Protocol: `init` asks for a producer id and epoch (InitProducerId without a transactional
 * id). Every batch carries them and a base sequence per partition that starts at 0 and grows
 * by the batch's record count, wrapping at 2^31 as Kafka's DefaultRecordBatch.incrementSequence
 * does. A send builds its batch once and, after a lost connection or a retriable error, sends
 * the very same bytes again, with the same sequence, until `deliveryTimeoutMs` (Kafka's
 * delivery.timeout.ms) runs out; the broker keeps each producer's last sequences per partition
 * and answers a retried duplicate with the offset it first wrote, so a retry is written once.
 *
 * State and limits: one send in flight per partition (Kafka allows up to 5 with idempotence;
 * one keeps the sequence bookkeeping obvious, and sends to different partitions still run
 * concurrently). The sequence map holds one entry per partition sent to.
 *
 * Failure: a send that ran out of retries is in doubt (it may have been written). Its
 * sequence cannot be reused for other records and the partition cannot move past it, so the
 * producer starts over with a fresh producer id before its next send (what KIP-360's epoch
 * bump achieves in Kafka), and the send rejects with `DeliveryTimeoutError`. Errors that no
 * retry can fix (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH,
 * PRODUCER_FENCED, or any other non-retriable code) reject the send with that
 * `KafkaClientError`; the batch was not written, and the next send also starts over with a
 * fresh producer id. DUPLICATE_SEQUENCE_NUMBER means the batch was written earlier: a success
 * whose offset is unknown (-1), as the Java producer treats it.
 */
import { systemClock, type Clock } from '../io/clock.js'
import { ERROR } from '../protocol/errors.js'
import { buildRecordBatchSync, type RecordInput } from '../records/builder.js'
import type { KafkaClient } from './client.js'
import { KafkaClientError, KafkaConnectionError } from './errors.js'

/** What the producer needs from a client (a fake in unit tests). */
export type ProducerTransport = Pick<KafkaClient, 'initProducerId' | 'produce'>

/** Sequences are int32 and wrap to 0 past Integer.MAX_VALUE (Kafka's incrementSequence). */
const SEQUENCE_MODULUS = 2 ** 31

export interface IdempotentProducerOptions {
  clock?: Clock
  /** How long one send (or init) keeps retrying (Kafka's delivery.timeout.ms, 120 s). */
  deliveryTimeoutMs?: number
  /** First pause between retries, doubled up to `retryBackoffMaxMs` (KIP-580). */
  retryBackoffMs?: number
  retryBackoffMaxMs?: number
  /** How long the broker may hold an acks=all produce (Kafka's request.timeout.ms). */
  produceTimeoutMs?: number
}

export interface SendResult {
  /** The offset of the first record, or -1 after DUPLICATE_SEQUENCE_NUMBER. */
  baseOffset: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  /** Produce requests it took (1 without retries). */
  attempts: number
}

/** A send that kept failing until the delivery timeout: it may or may not have been written. */
export class DeliveryTimeoutError extends Error {
  override name = 'DeliveryTimeoutError'
}

interface PartitionSequence {
  producerId: number
  producerEpoch: number
  next: number
}

/** Connection failures and errors Kafka marks retriable may succeed when sent again. */
export function retriableForIdempotentSend (error: unknown): boolean {
  if (error instanceof KafkaConnectionError) return true
  return error instanceof KafkaClientError && error.retriable
}

export class IdempotentProducer {
  readonly #transport: ProducerTransport
  readonly #clock: Clock
  readonly #deliveryTimeoutMs: number
  readonly #retryBackoffMs: number
  readonly #retryBackoffMaxMs: number
  readonly #produceTimeoutMs: number
  readonly #sequences = new Map<string, PartitionSequence>()
  readonly #partitionQueues = new Map<string, Promise<unknown>>()
  #producerId = -1
  #producerEpoch = -1
  #initializing: Promise<void> | undefined
  /** Set after an in-doubt or fatal send: the next send gets a fresh producer id first. */
  #restartNeeded = false

  constructor (transport: ProducerTransport, options: IdempotentProducerOptions = {}) {
    this.#transport = transport
    this.#clock = options.clock ?? systemClock
    this.#deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000
    this.#retryBackoffMs = options.retryBackoffMs ?? 50
    this.#retryBackoffMaxMs = options.retryBackoffMaxMs ?? 1000
    this.#produceTimeoutMs = options.produceTimeoutMs ?? 30_000
  }

  get producerId (): number { return this.#producerId }
  get producerEpoch (): number { return this.#producerEpoch }

  /** InitProducerId (retried like a send); every partition's sequence starts again at 0. */
  async init (): Promise<void> {
    this.#initializing ??= this.#initOnce().finally(() => { this.#initializing = undefined })
    await this.#initializing
  }

  async #initOnce (): Promise<void> {
    const { producerId, producerEpoch } = await this.#withRetries(
      () => this.#transport.initProducerId(null), 'InitProducerId').then(done => done.value)
    this.#producerId = producerId
    this.#producerEpoch = producerEpoch
    this.#sequences.clear()
    this.#restartNeeded = false
  }

  /**
   * Sends `records` as one batch with acks=all and resolves once it is acknowledged; sends to
   * one partition go out one at a time, in call order.
   */
  send (topic: string, partition: number, records: RecordInput[],
    options: { timestampMs?: number } = {}): Promise<SendResult> {
    const key = `${topic}:${partition}`
    const previous = this.#partitionQueues.get(key) ?? Promise.resolve()
    const sent = previous.catch(() => undefined)
      .then(() => this.#sendNow(topic, partition, records, options.timestampMs))
    const settled = sent.catch(() => undefined)
    this.#partitionQueues.set(key, settled)
    void settled.then(() => {
      if (this.#partitionQueues.get(key) === settled) this.#partitionQueues.delete(key)
    })
    return sent
  }

  async #sendNow (topic: string, partition: number, records: RecordInput[],
    timestampMs: number | undefined): Promise<SendResult> {
    if (this.#producerId < 0 || this.#restartNeeded) await this.init()
    const key = `${topic}:${partition}`
    const producerId = this.#producerId
    const producerEpoch = this.#producerEpoch
    const known = this.#sequences.get(key)
    const baseSequence = known !== undefined && known.producerId === producerId &&
      known.producerEpoch === producerEpoch ? known.next : 0
    const batch = buildRecordBatchSync(records,
      { producerId, producerEpoch, baseSequence, timestampMs })
    let done: { value: number, attempts: number }
    try {
      done = await this.#withRetries(() => this.#transport.produce(topic, partition, batch, {
        acks: -1, timeoutMs: this.#produceTimeoutMs,
      }).then(result => result.baseOffset), `Produce to ${key}`)
    } catch (error) {
      if (!isDuplicateSequence(error)) {
        this.#restartNeeded = true
        throw error
      }
      done = { value: -1, attempts: 1 }
    }
    if (this.#producerId === producerId && this.#producerEpoch === producerEpoch) {
      this.#sequences.set(key, {
        producerId, producerEpoch, next: (baseSequence + records.length) % SEQUENCE_MODULUS,
      })
    }
    return { baseOffset: done.value, producerId, producerEpoch, baseSequence,
      attempts: done.attempts }
  }

  /** Runs `call` until it succeeds, fails for good, or the delivery timeout passes. */
  async #withRetries<T> (call: () => Promise<T>, what: string):
  Promise<{ value: T, attempts: number }> {
    const deadlineMs = this.#clock.monotonicMs() + this.#deliveryTimeoutMs
    let backoffMs = this.#retryBackoffMs
    for (let attempts = 1; ; attempts++) {
      try {
        return { value: await call(), attempts }
      } catch (error) {
        if (!retriableForIdempotentSend(error)) throw error
        if (this.#clock.monotonicMs() + backoffMs >= deadlineMs) {
          throw new DeliveryTimeoutError(`${what} still failing after ${attempts} attempts ` +
            `in ${this.#deliveryTimeoutMs} ms: ${(error as Error).message}`, { cause: error })
        }
        await new Promise<void>(resolve => this.#clock.setTimer(backoffMs, resolve))
        backoffMs = Math.min(backoffMs * 2, this.#retryBackoffMaxMs)
      }
    }
  }
}

function isDuplicateSequence (error: unknown): boolean {
  return error instanceof KafkaClientError && error.code === ERROR.DUPLICATE_SEQUENCE_NUMBER
}
