/**
 * The transaction coordinator's driver (Kafka's TransactionCoordinator with its
 * TransactionStateManager and TransactionMarkerChannelManager): it owns the I/O around the pure
 * TransactionState machines (txn-state.ts). For each request it steps the id's machine, appends
 * the metadata it emitted to `__transaction_state` (the machine answers only once that append
 * is durable), sends the COMMIT/ABORT markers a durable Prepare state asks for, retrying each
 * partition until written, and keeps one timer per id at the deadline the machine asked for.
 *
 * Placement: a transactional id lives on partition abs(hashCode(id)) % 50 of
 * `__transaction_state` (Kafka's TransactionStateManager.partitionFor); its coordinator is that
 * partition's leader. On one broker `load()` replays every partition (last value per id wins,
 * as compaction keeps) and resumes markers of ids left in a Prepare state; an id left Ongoing
 * is aborted by its timeout. Until a partition is loaded its ids answer
 * COORDINATOR_LOAD_IN_PROGRESS.
 *
 * In a cluster (`leaderEpoch` given) the coordinator follows leadership, as Kafka's
 * TransactionStateManager onElection/onResignation: `followLeadership()` (called on every
 * metadata change) loads each partition this broker has come to lead and drops the ids, timers
 * and waiting requests of each it no longer leads (those ids then answer NOT_COORDINATOR). The
 * coordinator epoch of a partition is its leader epoch at load (Kafka's coordinatorEpoch); its
 * markers carry it. A marker loop sends only while its partition is led in that epoch and
 * ends when the partition is unloaded, so a deposed coordinator stops sending, and its late
 * markers are fenced by the partitions.
 *
 * Markers go through `TxnMarkerChannel`, a "send to the partition leader" port
 * (src/broker/txn-markers.ts): a local append when this broker leads the partition, else
 * WriteTxnMarkers to its leader.
 *
 * Failure: a failed append answers the request COORDINATOR_NOT_AVAILABLE and reloads the
 * partition from the log, so memory never keeps state the log does not have.
 *
 * Limits: TXN_IDS_MAX ids; the partitions and staged offsets per transaction are bounded by
 * the machine (TxnLimits.partitionsMax); one timer and one marker loop per id.
 */
import type { Clock, TimerHandle } from '../io/clock.js'
import { partitionForGroup } from '../group/offsets-store.js'
import type { OffsetsLog } from '../group/offsets-store.js'
import { ERROR } from '../protocol/errors.js'
import { assert } from '../util/assert.js'
import { decodeTxnRecord, encodeTxnRecord } from './txn-records.js'
import {
  TransactionState, type TopicPartition, type TxnEffect, type TxnEvent, type TxnLimits,
  type TxnResponse,
} from './txn-state.js'

export type { TopicPartition, TxnOffset, TxnResponse } from './txn-state.js'

/** One marker to write: every partition of a decided transaction. */
export interface TxnMarker {
  producerId: number
  producerEpoch: number
  commit: boolean
  coordinatorEpoch: number
  partitions: TopicPartition[]
}

/** Sends markers to partition leaders; resolves with the partitions not written (to retry). */
export interface TxnMarkerChannel {
  send (marker: TxnMarker): Promise<TopicPartition[]>
}

export interface TxnCoordinatorOptions {
  clock: Clock
  limits: TxnLimits
  /** `__transaction_state`, with the same durable-append/replay port as the offsets store. */
  log: OffsetsLog
  markers: TxnMarkerChannel
  nextProducerId: () => Promise<number>
  /** The `__consumer_offsets` partition of a group (AddOffsetsToTxn adds it). */
  groupPartition: (groupId: string) => TopicPartition
  /**
   * In a cluster: the leader epoch of `__transaction_state` partition `partition` while this
   * broker leads it with a live session, else undefined. Absent on one broker (leads all).
   */
  leaderEpoch?: (partition: number) => number | undefined
  logger?: { warn (message: string): void }
}

/** Transactional ids one coordinator keeps; a new one past this is refused. */
export const TXN_IDS_MAX = 100_000
/** Marker retries back off up to this (Kafka retries until written, with backoff). */
const MARKER_RETRY_MAX_MS = 5_000

export class TxnLoadError extends Error {
  override name = 'TxnLoadError'
}

export class TransactionCoordinator {
  readonly #options: TxnCoordinatorOptions
  readonly #machines = new Map<string, TransactionState>()
  readonly #timers = new Map<string, TimerHandle>()
  readonly #waiters = new Map<number, { transactionalId: string,
    respond: (response: TxnResponse) => void }>()
  readonly #loading = new Set<number>()
  /**
   * Loaded partitions and the coordinator epoch of their load: the partition's leader epoch
   * in a cluster, a per-load counter on one broker. Marker loops of an older epoch stop.
   */
  readonly #epochs = new Map<number, number>()
  #loads = 0
  /** One leadership pass at a time; at most one more queued behind it. */
  #following: Promise<void> = Promise.resolve()
  #followQueued = false
  #nextRequestId = 1
  #stopped = false

  constructor (options: TxnCoordinatorOptions) {
    this.#options = options
  }

  /** Kafka's TransactionStateManager.partitionFor: the same hash as a group's. */
  partitionFor (transactionalId: string): number {
    return partitionForGroup(transactionalId, this.#options.log.partitionCount)
  }

  /** Loads every partition this broker leads (all of them on one broker). */
  async load (): Promise<void> {
    for (let partition = 0; partition < this.#options.log.partitionCount; partition++) {
      const leads = this.#options.leaderEpoch === undefined ||
        this.#options.leaderEpoch(partition) !== undefined
      if (leads) await this.#loadPartition(partition)
    }
  }

  /**
   * Brings the loaded partitions in line with the partitions this broker leads now: loads the
   * newly led ones (or led in a new epoch), unloads the others. Calls coalesce: while a pass
   * runs at most one more is queued, and it reads leadership afresh when it starts.
   */
  followLeadership (): Promise<void> {
    const leaderEpoch = this.#options.leaderEpoch
    if (leaderEpoch === undefined || this.#followQueued) return this.#following
    this.#followQueued = true
    // A failed pass must not stop the passes after it.
    this.#following = this.#following.catch(() => undefined).then(async () => {
      this.#followQueued = false
      for (let partition = 0; partition < this.#options.log.partitionCount; partition++) {
        if (this.#stopped) return
        const epoch = leaderEpoch(partition)
        if (epoch === this.#epochs.get(partition) || this.#loading.has(partition)) continue
        if (epoch === undefined) {
          this.#unload(partition)
          continue
        }
        await this.#reload(partition)
      }
    })
    return this.#following
  }

  async #loadPartition (partition: number): Promise<void> {
    this.#loading.add(partition)
    const coordinatorEpoch = this.#options.leaderEpoch?.(partition) ?? ++this.#loads
    try {
      await this.#replayPartition(partition, coordinatorEpoch)
    } finally {
      this.#loading.delete(partition)
      // Leadership moved while it loaded (a pass then skipped this partition): another pass.
      const leaderEpoch = this.#options.leaderEpoch
      if (leaderEpoch !== undefined && leaderEpoch(partition) !== coordinatorEpoch) {
        void this.followLeadership()
      }
    }
  }

  async #replayPartition (partition: number, coordinatorEpoch: number): Promise<void> {
    const last = new Map<string, ReturnType<typeof decodeTxnRecord>>()
    for await (const { key, value, offset } of this.#options.log.replay(partition)) {
      const record = decodeTxnRecord(key, value)
      if (record === undefined) {
        throw new TxnLoadError(`__transaction_state-${partition}: the record at offset ` +
          `${offset ?? 'unknown'} is not a transaction record this broker wrote; loading stops`)
      }
      last.set(record.transactionalId, record)
    }
    this.#epochs.set(partition, coordinatorEpoch)
    for (const record of last.values()) {
      if (record === undefined || record.value === null) continue
      if (this.#machines.size >= TXN_IDS_MAX) break
      const machine = new TransactionState(record.transactionalId, this.#options.limits)
      machine.replay(record.value)
      this.#machines.set(record.transactionalId, machine)
      this.#step(machine, { type: 'loaded' })
    }
  }

  /**
   * Forgets a partition's ids (Kafka's removeTransactionsForTxnTopicPartition): their timers
   * stop, their marker loops and pending appends find their machine gone and stop, and the
   * requests still waiting are answered NOT_COORDINATOR (the client looks up the new one).
   */
  #unload (partition: number): void {
    this.#epochs.delete(partition)
    for (const [id, machine] of [...this.#machines]) {
      if (this.partitionFor(id) !== partition) continue
      assert(this.#machines.get(id) === machine, 'one machine per id')
      this.#timers.get(id)?.cancel()
      this.#timers.delete(id)
      this.#machines.delete(id)
    }
    for (const [requestId, waiter] of [...this.#waiters]) {
      if (this.partitionFor(waiter.transactionalId) !== partition) continue
      this.#waiters.delete(requestId)
      waiter.respond({ errorCode: ERROR.NOT_COORDINATOR, producerId: -1, producerEpoch: -1 })
    }
  }

  stop (): void {
    this.#stopped = true
    for (const timer of this.#timers.values()) timer.cancel()
    this.#timers.clear()
    for (const { respond } of this.#waiters.values()) {
      respond({ errorCode: ERROR.COORDINATOR_NOT_AVAILABLE, producerId: -1, producerEpoch: -1 })
    }
    this.#waiters.clear()
  }

  /** NONE if this coordinator may serve the id now, else the error to answer with. */
  coordinatorError (transactionalId: string): number {
    if (transactionalId === '') return ERROR.INVALID_REQUEST
    if (this.#stopped) return ERROR.COORDINATOR_NOT_AVAILABLE
    const partition = this.partitionFor(transactionalId)
    const leaderEpoch = this.#options.leaderEpoch
    if (leaderEpoch === undefined) {
      return this.#epochs.has(partition) ? ERROR.NONE : ERROR.COORDINATOR_LOAD_IN_PROGRESS
    }
    const epoch = leaderEpoch(partition)
    if (epoch === undefined) return ERROR.NOT_COORDINATOR
    // Led, but not loaded in this epoch yet (followLeadership is about to): Kafka answers the
    // same while its load runs.
    if (this.#loading.has(partition) || this.#epochs.get(partition) !== epoch) {
      return ERROR.COORDINATOR_LOAD_IN_PROGRESS
    }
    return ERROR.NONE
  }

  /** The id's state, for DescribeTransactions-like reads and tests. */
  describe (transactionalId: string): TransactionState | undefined {
    return this.#machines.get(transactionalId)
  }

  /**
   * Every transactional id this coordinator serves now (partitions still loading left out),
   * with its state, for ListTransactions. Bounded by TXN_IDS_MAX.
   */
  * transactions (): Generator<TransactionState> {
    for (const machine of this.#machines.values()) {
      if (machine.metadata === null) continue
      if (this.coordinatorError(machine.transactionalId) !== ERROR.NONE) continue
      yield machine
    }
  }

  /** KIP-890 part 1: NONE if this producer may write transactional data to `tp` now. */
  verification (transactionalId: string, producerId: number, producerEpoch: number,
    tp: TopicPartition): number {
    const machine = this.#machines.get(transactionalId)
    return machine === undefined
      ? ERROR.INVALID_PRODUCER_ID_MAPPING
      : machine.verification(producerId, producerEpoch, tp)
  }

  async initProducerId (transactionalId: string, timeoutMs: number): Promise<TxnResponse> {
    const existing = this.#machines.get(transactionalId)
    let freshProducerId: number | null = null
    if (this.coordinatorError(transactionalId) === ERROR.NONE &&
      (existing === undefined || existing.needsFreshProducerId())) {
      freshProducerId = await this.#options.nextProducerId()
    }
    return this.#request(transactionalId, true, { type: 'init', requestId: 0, timeoutMs,
      freshProducerId })
  }

  async addPartitions (transactionalId: string, producerId: number, producerEpoch: number,
    partitions: TopicPartition[]): Promise<number> {
    const response = await this.#request(transactionalId, false, { type: 'add-partitions',
      requestId: 0, producerId, producerEpoch, partitions })
    return response.errorCode
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  async addOffsets (transactionalId: string, producerId: number, producerEpoch: number,
    groupId: string): Promise<number> {
    return this.addPartitions(transactionalId, producerId, producerEpoch,
      [this.#options.groupPartition(groupId)])
  }

  async endTxn (transactionalId: string, producerId: number, producerEpoch: number,
    commit: boolean): Promise<number> {
    const response = await this.#request(transactionalId, false, { type: 'end', requestId: 0,
      producerId, producerEpoch, commit })
    return response.errorCode
  }

  #request (transactionalId: string, create: boolean, event: TxnEvent & { requestId: number }):
  Promise<TxnResponse> {
    const failed = (errorCode: number): Promise<TxnResponse> =>
      Promise.resolve({ errorCode, producerId: -1, producerEpoch: -1 })
    const error = this.coordinatorError(transactionalId)
    if (error !== ERROR.NONE) return failed(error)
    let machine = this.#machines.get(transactionalId)
    if (machine === undefined) {
      if (!create) return failed(ERROR.INVALID_PRODUCER_ID_MAPPING)
      if (this.#machines.size >= TXN_IDS_MAX) return failed(ERROR.COORDINATOR_NOT_AVAILABLE)
      machine = new TransactionState(transactionalId, this.#options.limits)
      this.#machines.set(transactionalId, machine)
    }
    const requestId = this.#nextRequestId++
    const stepped = machine
    return new Promise(resolve => {
      this.#waiters.set(requestId, { transactionalId, respond: resolve })
      this.#step(stepped, { ...event, requestId } as TxnEvent)
    })
  }

  #step (machine: TransactionState, event: TxnEvent): void {
    this.#apply(machine, machine.step(event, this.#options.clock.nowMs()))
  }

  #current (machine: TransactionState): boolean {
    return !this.#stopped && this.#machines.get(machine.transactionalId) === machine
  }

  #apply (machine: TransactionState, effects: TxnEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'append': this.#append(machine, effect.value); break
        case 'markers': void this.#sendMarkers(machine, effect); break
        case 'timer': this.#arm(machine, effect.deadlineMs); break
        case 'respond': {
          const waiter = this.#waiters.get(effect.requestId)
          this.#waiters.delete(effect.requestId)
          waiter?.respond(effect.response)
        }
      }
    }
    if (machine.metadata === null && !machine.hasPendingWrite && this.#current(machine)) {
      // Never written, or expired (tombstone durable): the id is forgotten.
      this.#machines.delete(machine.transactionalId)
      this.#timers.get(machine.transactionalId)?.cancel()
      this.#timers.delete(machine.transactionalId)
    }
  }

  #append (machine: TransactionState, value: Parameters<typeof encodeTxnRecord>[1]): void {
    const partition = this.partitionFor(machine.transactionalId)
    this.#options.log.append(partition, [encodeTxnRecord(machine.transactionalId, value)])
      .then(() => {
        if (this.#current(machine)) this.#step(machine, { type: 'written', ok: true })
      }, (error: unknown) => {
        this.#options.logger?.warn(`__transaction_state-${partition}: append failed (` +
          `${(error as Error).message}); reloading the partition`)
        if (this.#current(machine)) this.#step(machine, { type: 'written', ok: false })
        void this.#reload(partition)
      })
  }

  async #sendMarkers (machine: TransactionState,
    effect: Extract<TxnEffect, { type: 'markers' }>): Promise<void> {
    const txnPartition = this.partitionFor(machine.transactionalId)
    const coordinatorEpoch = this.#epochs.get(txnPartition)
    if (coordinatorEpoch === undefined) return
    // The machine is still this coordinator's, loaded in the epoch the markers carry. While
    // this broker does not lead in that epoch now (its session lapsed and may come back) the
    // loop waits; once leadership moves, the partition is unloaded and the loop ends.
    const leaderEpoch = this.#options.leaderEpoch
    const mine = (): boolean => this.#current(machine) &&
      this.#epochs.get(txnPartition) === coordinatorEpoch
    const leading = (): boolean => leaderEpoch === undefined ||
      leaderEpoch(txnPartition) === coordinatorEpoch
    let partitions = effect.partitions
    let delayMs = 50
    // Retried until every partition has its marker (Kafka's TransactionMarkerChannelManager).
    while (mine()) {
      if (leading()) {
        if (partitions.length === 0) {
          this.#step(machine, { type: 'markers-written', producerEpoch: effect.producerEpoch })
          return
        }
        partitions = await this.#options.markers.send({ producerId: effect.producerId,
          producerEpoch: effect.producerEpoch, commit: effect.commit, coordinatorEpoch,
          partitions }).catch((error: unknown) => {
          this.#options.logger?.warn(`markers of ${machine.transactionalId} failed (` +
            `${(error as Error).message}); retrying`)
          return partitions
        })
        if (partitions.length === 0) continue
      }
      await new Promise<void>(resolve => this.#options.clock.setTimer(delayMs, resolve))
      delayMs = Math.min(delayMs * 2, MARKER_RETRY_MAX_MS)
    }
  }

  #arm (machine: TransactionState, deadlineMs: number | null): void {
    const id = machine.transactionalId
    this.#timers.get(id)?.cancel()
    this.#timers.delete(id)
    if (deadlineMs === null || this.#stopped) return
    const delayMs = Math.max(0, deadlineMs - this.#options.clock.nowMs())
    this.#timers.set(id, this.#options.clock.setTimer(delayMs, () => {
      this.#timers.delete(id)
      if (this.#current(machine)) this.#step(machine, { type: 'tick' })
    }))
  }

  /**
   * After a failed append, or on becoming leader: forget the partition's ids and rebuild them
   * from the log. A partition this broker no longer leads is only forgotten.
   */
  async #reload (partition: number): Promise<void> {
    if (this.#loading.has(partition)) return
    this.#unload(partition)
    if (this.#options.leaderEpoch?.(partition) === undefined &&
      this.#options.leaderEpoch !== undefined) return
    await this.#loadPartition(partition).catch((error: unknown) => {
      this.#options.logger?.warn(`__transaction_state-${partition}: reload failed (` +
        `${(error as Error).message}); its transactional ids stay unavailable`)
    })
  }
}
