/**
 * The state machine of one transactional id (Kafka's TransactionMetadata and the transitions
 * TransactionCoordinator drives, KIP-98). Pure: no I/O, no clock; every event carries `nowMs`
 * and every step returns effects for the driver (src/txn/txn-coordinator.ts) to carry out.
 *
 * States: Empty → Ongoing → PrepareCommit | PrepareAbort → CompleteCommit | CompleteAbort →
 * (Ongoing again, or Empty after an InitProducerId) and Dead once the id expired
 * (`transactional.id.expiration.ms`).
 *
 * Persistence rule: every transition writes the id's new metadata (an `append` effect) and
 * takes effect only when the driver reports it durable (`written`). Until then the transition
 * is *pending*: requests get CONCURRENT_TRANSACTIONS (Kafka's pendingState), the request that
 * caused it is answered only after the write, and a failed write leaves the state as it was.
 * Markers are asked for (`markers` effect) only once a Prepare record is durable, so a marker
 * never exists for a decision the log could lose.
 *
 * Fencing: InitProducerId bumps the epoch; a request with an older epoch gets PRODUCER_FENCED.
 * An ongoing transaction left by the previous instance, or one past `transaction.timeout.ms`,
 * is aborted with a bumped epoch (markers carry it, so the partitions fence the old producer:
 * its late produce fails INVALID_PRODUCER_EPOCH there).
 */
import { ERROR } from '../protocol/errors.js'
import { assert } from '../util/assert.js'

export type TxnStateName = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' |
  'CompleteCommit' | 'CompleteAbort' | 'Dead'

export interface TopicPartition { topic: string, partition: number }

/**
 * An offset committed inside a transaction (TxnOffsetCommit). The group coordinator stages
 * these (src/group/txn-offsets.ts); here the type only survives in `TxnMetadata.offsets`, which
 * records written by earlier versions carry and which is now always written empty.
 */
export interface TxnOffset {
  groupId: string
  topic: string
  partition: number
  offset: number
  leaderEpoch: number
  metadata: string | null
}

/** What `__transaction_state` holds per id (Kafka's TransactionLogValue). */
export interface TxnMetadata {
  producerId: number
  producerEpoch: number
  timeoutMs: number
  state: TxnStateName
  partitions: TopicPartition[]
  offsets: TxnOffset[]
  txnStartMs: number
  lastUpdateMs: number
}

export interface TxnLimits {
  /** transaction.max.timeout.ms: InitProducerId with a longer timeout is refused. */
  maxTimeoutMs: number
  /** transactional.id.expiration.ms: an idle id is forgotten after this. */
  idExpirationMs: number
  /** Partitions (and staged offsets) one transaction may hold; bounds what a client grows. */
  partitionsMax: number
}

export type TxnResponse = { errorCode: number, producerId: number, producerEpoch: number }

export type TxnEvent =
  | { type: 'init', requestId: number, timeoutMs: number, freshProducerId: number | null }
  | { type: 'add-partitions', requestId: number, producerId: number, producerEpoch: number,
    partitions: TopicPartition[] }
  | { type: 'end', requestId: number, producerId: number, producerEpoch: number,
    commit: boolean }
  /** The pending record's append settled. */
  | { type: 'written', ok: boolean }
  /** Every marker of the current Prepare state is written. */
  | { type: 'markers-written', producerEpoch: number }
  /** Loaded from the log (after replay): resume markers of a Prepare state. */
  | { type: 'loaded' }
  | { type: 'tick' }

export type TxnEffect =
  | { type: 'append', value: TxnMetadata | null }
  | { type: 'respond', requestId: number, response: TxnResponse }
  | { type: 'markers', producerId: number, producerEpoch: number, commit: boolean,
    partitions: TopicPartition[] }
  | { type: 'timer', deadlineMs: number | null }

/** Kafka's Short.MAX_VALUE - 1: past it, a fresh producer id is needed (epoch exhaustion). */
export const PRODUCER_EPOCH_MAX = 32766


const partitionKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`

interface Pending {
  value: TxnMetadata | null
  requestId: number | undefined
  /** The answer once durable (for the request that caused the write). */
  response: TxnResponse | undefined
}

export class TransactionState {
  readonly transactionalId: string
  #limits: TxnLimits
  #current: TxnMetadata | null = null
  #pending: Pending | undefined
  #effects: TxnEffect[] = []

  constructor (transactionalId: string, limits: TxnLimits) {
    this.transactionalId = transactionalId
    this.#limits = limits
  }

  /** The durable metadata (null before the first write, or after expiry). */
  get metadata (): Readonly<TxnMetadata> | null {
    return this.#current
  }

  get state (): TxnStateName {
    return this.#current?.state ?? 'Empty'
  }

  get hasPendingWrite (): boolean {
    return this.#pending !== undefined
  }

  /** True when an InitProducerId must bring a freshly allocated producer id. */
  needsFreshProducerId (): boolean {
    return this.#current === null || this.#current.producerEpoch >= PRODUCER_EPOCH_MAX
  }

  /** Replays one record of `__transaction_state` (the last value wins, as compaction keeps). */
  replay (value: TxnMetadata | null): void {
    assert(this.#pending === undefined, 'replay happens before any live step')
    this.#current = value === null ? null : { ...value }
  }

  /**
   * KIP-890 part 1: may this producer append transactional data to `tp` now? Only while its
   * transaction is Ongoing (durably) with the partition added, in its current epoch.
   */
  verifies (producerId: number, producerEpoch: number, tp: TopicPartition): boolean {
    return this.verification(producerId, producerEpoch, tp) === ERROR.NONE
  }

  /**
   * The error of that check (Kafka's handleVerifyPartitionsInTransaction): an older epoch is
   * INVALID_PRODUCER_EPOCH (what a fenced producer's Produce gets), a partition not in an
   * ongoing transaction INVALID_TXN_STATE.
   */
  verification (producerId: number, producerEpoch: number, tp: TopicPartition): number {
    const current = this.#current
    if (current === null || current.producerId !== producerId) {
      return ERROR.INVALID_PRODUCER_ID_MAPPING
    }
    if (producerEpoch < current.producerEpoch) return ERROR.INVALID_PRODUCER_EPOCH
    if (current.state !== 'Ongoing' || current.producerEpoch !== producerEpoch) {
      return ERROR.INVALID_TXN_STATE
    }
    const key = partitionKey(tp)
    return current.partitions.some(one => partitionKey(one) === key)
      ? ERROR.NONE
      : ERROR.INVALID_TXN_STATE
  }

  /** Applies one event; returns the effects in the order the driver must carry them out. */
  step (event: TxnEvent, nowMs: number): TxnEffect[] {
    this.#effects = []
    switch (event.type) {
      case 'init': this.#init(event, nowMs); break
      case 'add-partitions': this.#addPartitions(event, nowMs); break
      case 'end': this.#end(event, nowMs); break
      case 'written': this.#written(event.ok); break
      case 'markers-written': this.#markersWritten(event.producerEpoch, nowMs); break
      case 'loaded': this.#resumeMarkers(); break
      case 'tick': this.#tick(nowMs); break
    }
    this.#effects.push({ type: 'timer', deadlineMs: this.#deadline() })
    return this.#effects
  }

  #respond (requestId: number, errorCode: number): void {
    this.#effects.push({ type: 'respond', requestId, response: {
      errorCode, producerId: this.#current?.producerId ?? -1,
      producerEpoch: this.#current?.producerEpoch ?? -1 } })
  }

  /** Starts a write of `value`; the request (if any) is answered once it is durable. */
  #write (value: TxnMetadata | null, requestId?: number, errorCode: number = ERROR.NONE):
  void {
    assert(this.#pending === undefined, 'one pending write per transactional id')
    this.#pending = { value, requestId, response: value === null ? undefined
      : { errorCode, producerId: value.producerId, producerEpoch: value.producerEpoch } }
    this.#effects.push({ type: 'append', value })
  }

  #written (ok: boolean): void {
    const pending = this.#pending
    if (pending === undefined) return
    this.#pending = undefined
    if (!ok) {
      if (pending.requestId !== undefined) {
        this.#respond(pending.requestId, ERROR.COORDINATOR_NOT_AVAILABLE)
      }
      // A Complete record that failed: the markers are written again, then it is retried.
      this.#resumeMarkers()
      return
    }
    this.#current = pending.value
    if (pending.requestId !== undefined && pending.response !== undefined) {
      this.#effects.push({ type: 'respond', requestId: pending.requestId,
        response: pending.response })
    }
    this.#resumeMarkers()
  }

  /** In a durable Prepare state, asks for the markers (again, after a load). */
  #resumeMarkers (): void {
    const current = this.#current
    if (current === null || this.#pending !== undefined) return
    if (current.state !== 'PrepareCommit' && current.state !== 'PrepareAbort') return
    this.#effects.push({ type: 'markers', producerId: current.producerId,
      producerEpoch: current.producerEpoch, commit: current.state === 'PrepareCommit',
      partitions: current.partitions })
  }

  /** Kafka's TransactionCoordinator.handleInitProducerId. */
  #init (event: Extract<TxnEvent, { type: 'init' }>, nowMs: number): void {
    if (event.timeoutMs <= 0 || event.timeoutMs > this.#limits.maxTimeoutMs) {
      return this.#respond(event.requestId, ERROR.INVALID_TRANSACTION_TIMEOUT)
    }
    if (this.#pending !== undefined) {
      return this.#respond(event.requestId, ERROR.CONCURRENT_TRANSACTIONS)
    }
    const current = this.#current
    if (current?.state === 'PrepareCommit' || current?.state === 'PrepareAbort') {
      return this.#respond(event.requestId, ERROR.CONCURRENT_TRANSACTIONS)
    }
    if (current?.state === 'Ongoing') {
      // The previous instance left a transaction open: abort it under a bumped epoch, which
      // fences that instance; the new one retries (CONCURRENT_TRANSACTIONS) until it completes.
      this.#write(this.#prepare(current, false, current.producerEpoch + 1, nowMs),
        event.requestId, ERROR.CONCURRENT_TRANSACTIONS)
      return
    }
    const fresh = this.needsFreshProducerId()
    if (fresh && event.freshProducerId === null) {
      return this.#respond(event.requestId, ERROR.COORDINATOR_NOT_AVAILABLE)
    }
    this.#write({
      producerId: fresh ? event.freshProducerId as number : (current as TxnMetadata).producerId,
      producerEpoch: fresh ? 0 : (current as TxnMetadata).producerEpoch + 1,
      timeoutMs: event.timeoutMs, state: 'Empty', partitions: [], offsets: [],
      txnStartMs: -1, lastUpdateMs: nowMs,
    }, event.requestId)
  }

  /** The producer check shared by AddPartitions and EndTxn; NONE if it holds. */
  #producerError (producerId: number, producerEpoch: number): number {
    const current = this.#current
    if (current === null || current.producerId !== producerId) {
      return ERROR.INVALID_PRODUCER_ID_MAPPING
    }
    if (current.producerEpoch !== producerEpoch) return ERROR.PRODUCER_FENCED
    if (this.#pending !== undefined) return ERROR.CONCURRENT_TRANSACTIONS
    if (current.state === 'PrepareCommit' || current.state === 'PrepareAbort') {
      return ERROR.CONCURRENT_TRANSACTIONS
    }
    return ERROR.NONE
  }

  #addPartitions (event: Extract<TxnEvent, { type: 'add-partitions' }>, nowMs: number): void {
    const error = this.#producerError(event.producerId, event.producerEpoch)
    if (error !== ERROR.NONE) return this.#respond(event.requestId, error)
    const current = this.#current as TxnMetadata
    const ongoing = current.state === 'Ongoing'
    const partitions = ongoing ? [...current.partitions] : []
    const known = new Set(partitions.map(partitionKey))
    for (const tp of event.partitions) {
      if (known.has(partitionKey(tp))) continue
      known.add(partitionKey(tp))
      partitions.push({ topic: tp.topic, partition: tp.partition })
    }
    if (ongoing && partitions.length === current.partitions.length) {
      return this.#respond(event.requestId, ERROR.NONE)
    }
    if (partitions.length > this.#limits.partitionsMax) {
      return this.#respond(event.requestId, ERROR.INVALID_REQUEST)
    }
    this.#write({ ...current, state: 'Ongoing', partitions, offsets: ongoing ? current.offsets
      : [], txnStartMs: ongoing ? current.txnStartMs : nowMs, lastUpdateMs: nowMs },
    event.requestId)
  }

  /** Kafka's TransactionCoordinator.handleEndTransaction (without KIP-890 part 2). */
  #end (event: Extract<TxnEvent, { type: 'end' }>, nowMs: number): void {
    const current = this.#current
    if (current !== null && current.producerId === event.producerId &&
      current.producerEpoch === event.producerEpoch && this.#pending === undefined) {
      // A retried EndTxn whose first attempt already decided: the same answer again.
      const decided = event.commit ? ['PrepareCommit', 'CompleteCommit']
        : ['PrepareAbort', 'CompleteAbort']
      if (decided.includes(current.state)) {
        return this.#respond(event.requestId, current.state.startsWith('Prepare')
          ? ERROR.CONCURRENT_TRANSACTIONS : ERROR.NONE)
      }
    }
    const error = this.#producerError(event.producerId, event.producerEpoch)
    if (error !== ERROR.NONE) return this.#respond(event.requestId, error)
    const ongoing = current as TxnMetadata
    if (ongoing.state !== 'Ongoing') {
      return this.#respond(event.requestId, ERROR.INVALID_TXN_STATE)
    }
    this.#write(this.#prepare(ongoing, event.commit, ongoing.producerEpoch, nowMs),
      event.requestId)
  }

  #prepare (current: TxnMetadata, commit: boolean, producerEpoch: number, nowMs: number):
  TxnMetadata {
    return { ...current, producerEpoch, state: commit ? 'PrepareCommit' : 'PrepareAbort',
      lastUpdateMs: nowMs }
  }

  #markersWritten (producerEpoch: number, nowMs: number): void {
    const current = this.#current
    if (current === null || this.#pending !== undefined) return
    if (current.producerEpoch !== producerEpoch) return
    if (current.state !== 'PrepareCommit' && current.state !== 'PrepareAbort') return
    this.#write({ ...current, state: current.state === 'PrepareCommit' ? 'CompleteCommit'
      : 'CompleteAbort', partitions: [], offsets: [], lastUpdateMs: nowMs })
  }

  /** Timeouts: abort an expired transaction (fencing its producer); expire an idle id. */
  #tick (nowMs: number): void {
    const current = this.#current
    if (current === null || this.#pending !== undefined) return
    if (current.state === 'Ongoing' && nowMs >= current.txnStartMs + current.timeoutMs) {
      // Kafka's abortTimedOutTransactions bumps the epoch, so the producer is fenced.
      this.#write(this.#prepare(current, false, current.producerEpoch + 1, nowMs))
      return
    }
    if ((current.state === 'Empty' || current.state === 'CompleteCommit' ||
      current.state === 'CompleteAbort') &&
      nowMs >= current.lastUpdateMs + this.#limits.idExpirationMs) {
      this.#write(null)
    }
  }

  #deadline (): number | null {
    const current = this.#current
    if (current === null || this.#pending !== undefined) return null
    if (current.state === 'Ongoing') return current.txnStartMs + current.timeoutMs
    if (current.state === 'PrepareCommit' || current.state === 'PrepareAbort') return null
    return current.lastUpdateMs + this.#limits.idExpirationMs
  }
}
