/**
 * A seeded simulator of the transaction coordinator's pure state machine (src/txn/txn-state.ts)
 * with the parts around it modelled in memory: a `__transaction_state` log whose appends become
 * durable (or fail) in any order the seed picks, partitions that apply Kafka's producer-epoch
 * fencing and KIP-890 verification, transactional producers (several instances per id, so
 * zombies exist), transaction timeouts, and coordinators that lose their partitions as in a
 * cluster. The ids live on TXN_LOG_PARTITIONS partitions of `__transaction_state`, each with a
 * leader epoch that is its coordinator epoch. A coordinator crash bumps every partition's
 * epoch; a move bumps one. Either way the new coordinator rebuilds those ids by replaying the
 * durable log; each append still pending is durable or lost, as the seed picks; requests
 * waiting on those ids get NOT_COORDINATOR. Markers already in flight from the deposed
 * coordinator are NOT dropped: they may still land at any later moment (a late WriteTxnMarkers),
 * where the partition fences them by coordinator epoch (src/storage/producer-state.ts), and
 * they never step the new coordinator's state.
 *
 * Invariants, checked as the run goes and after a calm phase at the end:
 *   - one ongoing transaction per id: a marker never closes the data of two transactions;
 *   - no marker before its Prepare record is durable;
 *   - an aborted transaction's records never become visible (no transaction is partly
 *     committed, and one whose abort was acknowledged has nothing committed);
 *   - a fenced producer never commits (no commit is acknowledged to an epoch older than one
 *     an InitProducerId already handed out), and a fenced producer's data never lands;
 *   - at the end every data record is followed by a marker (no hanging transaction), and every
 *     acknowledged commit is visible in full.
 */
import assert from 'node:assert/strict'
import { ERROR } from '../../src/protocol/errors.js'
import {
  TransactionState, type TopicPartition, type TxnEffect, type TxnEvent, type TxnLimits,
  type TxnMetadata, type TxnResponse,
} from '../../src/txn/txn-state.js'
import { seededRandom } from '../support/seeded-random.js'

const LIMITS: TxnLimits = { maxTimeoutMs: 10_000, idExpirationMs: 60_000, partitionsMax: 100 }
const TXN_IDS = ['a', 'b', 'c']
const TXN_LOG_PARTITIONS = 2
const txnPartitionOf = (txnId: string): number => TXN_IDS.indexOf(txnId) % TXN_LOG_PARTITIONS
const PARTITIONS: TopicPartition[] = [0, 1, 2, 3].map(partition => ({ topic: 't', partition }))

type Entry =
  | { kind: 'data', producerId: number, epoch: number, attempt: string }
  | { kind: 'marker', producerId: number, epoch: number, commit: boolean }

interface Instance {
  txnId: string
  producerId: number
  epoch: number
  phase: 'init' | 'idle' | 'in-txn' | 'ending' | 'fenced'
  attempt: string
  commit: boolean
  added: Set<number>
  waiting: boolean
  /** Which InitProducerId of this id this instance got (ids expire, so epochs restart). */
  generation: number
}

interface MarkerJob {
  txnId: string
  producerId: number
  epoch: number
  commit: boolean
  partitions: TopicPartition[]
  /** The leader epoch of the id's `__transaction_state` partition when the job started. */
  coordinatorEpoch: number
}

export class TxnSim {
  readonly random: () => number
  nowMs = 0
  incarnation = 0
  /** Leader epoch (= coordinator epoch) of each `__transaction_state` partition. */
  readonly leaderEpochs: number[] = new Array<number>(TXN_LOG_PARTITIONS).fill(0)
  lateMarkers = 0
  fencedMarkers = 0
  readonly durable: { txnId: string, value: TxnMetadata | null }[] = []
  machines = new Map<string, TransactionState>()
  pendingAppends: { txnId: string, value: TxnMetadata | null }[] = []
  markerJobs: MarkerJob[] = []
  readonly partitions: Entry[][] = PARTITIONS.map(() => [])
  readonly partitionEpochs: Map<number, number>[] = PARTITIONS.map(() => new Map())
  /** Per data partition, the newest coordinator epoch of each producer's markers there. */
  readonly markerCoordinatorEpochs: Map<number, number>[] = PARTITIONS.map(() => new Map())
  readonly instances: Instance[] = []
  readonly waiters = new Map<number, { txnId: string, respond: (r: TxnResponse) => void }>()
  readonly commitAcked = new Set<string>()
  readonly abortAcked = new Set<string>()
  readonly fencedAttempts = new Set<string>()
  readonly initGenerations = new Map<string, number>()
  deadlines = new Map<string, number>()
  #nextRequestId = 1
  #nextProducerId = 1000
  #nextAttempt = 1

  constructor (seed: number) {
    this.random = seededRandom(seed)
    for (let partition = 0; partition < TXN_LOG_PARTITIONS; partition++) this.#load(partition)
  }

  pick<T> (items: readonly T[]): T | undefined {
    return items[Math.floor(this.random() * items.length)]
  }

  /** The new coordinator of one `__transaction_state` partition replays its ids. */
  #load (partition: number): void {
    for (const txnId of TXN_IDS.filter(id => txnPartitionOf(id) === partition)) {
      this.machines.delete(txnId)
      this.deadlines.delete(txnId)
    }
    const last = new Map<string, TxnMetadata | null>()
    for (const record of this.durable) last.set(record.txnId, record.value)
    for (const [txnId, value] of last) {
      if (value === null || txnPartitionOf(txnId) !== partition) continue
      const machine = new TransactionState(txnId, LIMITS)
      machine.replay(value)
      this.machines.set(txnId, machine)
      this.#apply(txnId, machine.step({ type: 'loaded' }, this.nowMs))
    }
  }

  #machine (txnId: string): TransactionState {
    let machine = this.machines.get(txnId)
    if (machine === undefined) {
      machine = new TransactionState(txnId, LIMITS)
      this.machines.set(txnId, machine)
    }
    return machine
  }

  #step (txnId: string, event: TxnEvent): void {
    this.#apply(txnId, this.#machine(txnId).step(event, this.nowMs))
  }

  #apply (txnId: string, effects: TxnEffect[]): void {
    for (const effect of effects) {
      if (effect.type === 'append') {
        this.pendingAppends.push({ txnId, value: effect.value })
      } else if (effect.type === 'respond') {
        const waiter = this.waiters.get(effect.requestId)
        this.waiters.delete(effect.requestId)
        waiter?.respond(effect.response)
      } else if (effect.type === 'markers') {
        this.markerJobs.push({ txnId, producerId: effect.producerId, epoch: effect.producerEpoch,
          commit: effect.commit, partitions: effect.partitions,
          coordinatorEpoch: this.leaderEpochs[txnPartitionOf(txnId)] as number })
      } else if (effect.deadlineMs === null) this.deadlines.delete(txnId)
      else this.deadlines.set(txnId, effect.deadlineMs)
    }
  }

  #request (instance: Instance, event: TxnEvent & { requestId: number },
    onResponse: (response: TxnResponse) => void): void {
    instance.waiting = true
    this.waiters.set(event.requestId, { txnId: instance.txnId, respond: response => {
      instance.waiting = false
      onResponse(response)
    } })
    this.#step(instance.txnId, event)
  }

  // ---- events ----

  newInstance (): void {
    const txnId = this.pick(TXN_IDS) as string
    const instance: Instance = { txnId, producerId: -1, epoch: -1, phase: 'init', attempt: '',
      commit: false, added: new Set(), waiting: false, generation: -1 }
    this.instances.push(instance)
    this.init(instance)
  }

  init (instance: Instance): void {
    const machine = this.#machine(instance.txnId)
    const freshProducerId = machine.needsFreshProducerId() ? this.#nextProducerId++ : null
    this.#request(instance, { type: 'init', requestId: this.#nextRequestId++,
      timeoutMs: 2_000 + Math.floor(this.random() * 3_000), freshProducerId }, response => {
      if (response.errorCode !== ERROR.NONE) return
      instance.producerId = response.producerId
      instance.epoch = response.producerEpoch
      instance.phase = 'idle'
      instance.generation = (this.initGenerations.get(instance.txnId) ?? 0) + 1
      this.initGenerations.set(instance.txnId, instance.generation)
      // Every other instance of this id is now a zombie.
      for (const other of this.instances) {
        if (other !== instance && other.txnId === instance.txnId && other.phase !== 'fenced') {
          if (other.attempt !== '' && other.phase !== 'idle') this.fencedAttempts.add(other.attempt)
          other.phase = 'fenced'
        }
      }
    })
  }

  addPartition (instance: Instance): void {
    const index = Math.floor(this.random() * PARTITIONS.length)
    const tp = PARTITIONS[index] as TopicPartition
    if (instance.phase === 'idle') {
      instance.attempt = `${instance.txnId}#${this.#nextAttempt++}`
      instance.added = new Set()
      instance.phase = 'in-txn'
    }
    this.#request(instance, { type: 'add-partitions', requestId: this.#nextRequestId++,
      producerId: instance.producerId, producerEpoch: instance.epoch, partitions: [tp] },
    response => {
      if (response.errorCode === ERROR.NONE) instance.added.add(index)
      else this.#onError(instance, response.errorCode)
    })
  }

  /** A produce to a partition; `anyPartition` models a late or hanging-transaction produce. */
  produce (instance: Instance, anyPartition: boolean): void {
    const candidates = anyPartition ? PARTITIONS.map((_, i) => i) : [...instance.added]
    const index = this.pick(candidates)
    if (index === undefined) return
    const epochs = this.partitionEpochs[index] as Map<number, number>
    const known = epochs.get(instance.producerId) ?? -1
    if (instance.epoch < known) return // INVALID_PRODUCER_EPOCH at the partition
    const verified = this.machines.get(instance.txnId)?.verifies(instance.producerId,
      instance.epoch, PARTITIONS[index] as TopicPartition) ?? false
    if (!verified) return // KIP-890: refused, the partition is not in the transaction
    assert.notEqual(instance.phase, 'fenced', 'a fenced producer passed verification')
    epochs.set(instance.producerId, instance.epoch)
    this.partitions[index]?.push({ kind: 'data', producerId: instance.producerId,
      epoch: instance.epoch, attempt: instance.attempt })
  }

  end (instance: Instance): void {
    if (instance.phase === 'in-txn') {
      instance.commit = this.random() < 0.6
      instance.phase = 'ending'
    }
    this.#request(instance, { type: 'end', requestId: this.#nextRequestId++,
      producerId: instance.producerId, producerEpoch: instance.epoch, commit: instance.commit },
    response => {
      if (response.errorCode !== ERROR.NONE) return this.#onError(instance, response.errorCode)
      if (instance.commit) {
        const newest = this.initGenerations.get(instance.txnId) ?? 0
        assert.equal(instance.generation, newest, `commit acknowledged to a fenced instance of ` +
          `${instance.txnId} (epoch ${instance.epoch}) after a newer one was initialized`)
        assert.ok(!this.fencedAttempts.has(instance.attempt), 'a fenced attempt committed')
        this.commitAcked.add(instance.attempt)
      } else this.abortAcked.add(instance.attempt)
      instance.phase = 'idle'
    })
  }

  #onError (instance: Instance, errorCode: number): void {
    if (errorCode === ERROR.PRODUCER_FENCED || errorCode === ERROR.INVALID_PRODUCER_ID_MAPPING ||
      errorCode === ERROR.INVALID_TXN_STATE) {
      if (instance.attempt !== '') this.fencedAttempts.add(instance.attempt)
      instance.phase = 'fenced'
    }
    // CONCURRENT_TRANSACTIONS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR: retried later.
  }

  settleAppend (ok: boolean): void {
    const index = Math.floor(this.random() * Math.min(2, this.pendingAppends.length))
    // Appends of one id settle in order (one pending write per id); pick among the oldest.
    const append = this.pendingAppends.splice(index, 1)[0]
    if (append === undefined) return
    if (ok) this.durable.push({ txnId: append.txnId, value: append.value })
    this.#step(append.txnId, { type: 'written', ok })
    if (ok && append.value === null) this.machines.delete(append.txnId)
  }

  #isCurrent (job: MarkerJob): boolean {
    return job.coordinatorEpoch === this.leaderEpochs[txnPartitionOf(job.txnId)]
  }

  /**
   * Delivers one marker job: the oldest of the current coordinators', or (`late`) any one of a
   * deposed coordinator's, which linger in flight until then, as on a slow network.
   */
  deliverMarkers (late = false): void {
    const candidates = this.markerJobs.filter(job => this.#isCurrent(job) !== late)
    const chosen = late ? this.pick(candidates) : candidates[0]
    if (chosen === undefined) return
    this.markerJobs.splice(this.markerJobs.indexOf(chosen), 1)
    const job = chosen
    const current = this.#isCurrent(job)
    // Its decision was durable when the job started (the log only grows here).
    assert.ok(this.durable.some(record => record.txnId === job.txnId &&
      record.value?.state === (job.commit ? 'PrepareCommit' : 'PrepareAbort') &&
      record.value.producerEpoch === job.epoch),
    'a marker is written only after its Prepare record is durable')
    if (current) {
      const last = [...this.durable].reverse().find(record => record.txnId === job.txnId)?.value
      assert.equal(last?.state, job.commit ? 'PrepareCommit' : 'PrepareAbort',
        'the current coordinator writes markers of the durable Prepare state')
      assert.equal(last?.producerEpoch, job.epoch, 'the marker carries the durable epoch')
    } else this.lateMarkers++
    for (const tp of job.partitions) this.#writeMarker(tp.partition, job)
    // A deposed coordinator's loop only steps its own, dropped, machine.
    if (current) this.#step(job.txnId, { type: 'markers-written', producerEpoch: job.epoch })
  }

  #writeMarker (index: number, job: MarkerJob): void {
    const fence = this.markerCoordinatorEpochs[index] as Map<number, number>
    if (job.coordinatorEpoch < (fence.get(job.producerId) ?? -1)) {
      this.fencedMarkers++ // TRANSACTION_COORDINATOR_FENCED
      return
    }
    fence.set(job.producerId, job.coordinatorEpoch)
    const entries = this.partitions[index] as Entry[]
    const open = new Set<string>()
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i] as Entry
      if (entry.producerId !== job.producerId) continue
      if (entry.kind === 'marker') break
      open.add(entry.attempt)
    }
    assert.ok(open.size <= 1, `one marker closes two transactions: ${[...open].join(', ')}`)
    const epochs = this.partitionEpochs[index] as Map<number, number>
    epochs.set(job.producerId, Math.max(job.epoch, epochs.get(job.producerId) ?? -1))
    entries.push({ kind: 'marker', producerId: job.producerId, epoch: job.epoch,
      commit: job.commit })
  }

  /** The coordinator's broker dies: every `__transaction_state` partition gets a new leader. */
  crash (): void {
    for (let partition = 0; partition < TXN_LOG_PARTITIONS; partition++) this.move(partition)
  }

  /**
   * Leadership of one `__transaction_state` partition moves (leader epoch + 1). Its appends
   * still pending are each durable or lost (replicated in time or not), waiting requests of its
   * ids answer NOT_COORDINATOR, and the new leader replays the durable log.
   */
  move (partition = Math.floor(this.random() * TXN_LOG_PARTITIONS)): void {
    this.incarnation++
    this.leaderEpochs[partition] = (this.leaderEpochs[partition] as number) + 1
    const ofPartition = (txnId: string): boolean => txnPartitionOf(txnId) === partition
    for (const append of this.pendingAppends.filter(a => ofPartition(a.txnId))) {
      if (this.random() < 0.5) this.durable.push({ txnId: append.txnId, value: append.value })
    }
    this.pendingAppends = this.pendingAppends.filter(a => !ofPartition(a.txnId))
    for (const [requestId, waiter] of [...this.waiters]) {
      if (!ofPartition(waiter.txnId)) continue
      this.waiters.delete(requestId)
      waiter.respond({ errorCode: ERROR.NOT_COORDINATOR, producerId: -1, producerEpoch: -1 })
    }
    this.#load(partition)
  }

  advance (toDeadline: boolean): void {
    const next = Math.min(...this.deadlines.values())
    this.nowMs = toDeadline && Number.isFinite(next) ? Math.max(this.nowMs, next)
      : this.nowMs + Math.floor(this.random() * 500)
    for (const [txnId, deadline] of [...this.deadlines]) {
      if (deadline <= this.nowMs && this.machines.has(txnId)) this.#step(txnId, { type: 'tick' })
    }
  }

  /** One random event. */
  chaos (): void {
    const roll = this.random()
    const live = this.instances.filter(i => !i.waiting)
    const instance = this.pick(live)
    if (roll < 0.05 || this.instances.length === 0) return this.newInstance()
    if (roll < 0.25) return this.settleAppend(this.random() > 0.05)
    if (roll < 0.35) return this.deliverMarkers(this.random() < 0.2)
    if (roll < 0.38) return this.crash()
    if (roll < 0.40) return this.move()
    if (roll < 0.47) return this.advance(this.random() < 0.3)
    if (instance === undefined) return
    this.#act(instance)
  }

  #act (instance: Instance): void {
    const roll = this.random()
    switch (instance.phase) {
      case 'init': return this.init(instance)
      case 'idle': return roll < 0.8 ? this.addPartition(instance) : undefined
      case 'in-txn':
        if (roll < 0.3) return this.addPartition(instance)
        if (roll < 0.75) return this.produce(instance, roll < 0.35)
        return this.end(instance)
      case 'ending': return this.end(instance)
      case 'fenced': return roll < 0.5 ? this.produce(instance, true) : undefined
    }
  }

  /** No more chaos: everything settles, timeouts fire, markers land. */
  calm (): void {
    for (let round = 0; round < 200; round++) {
      while (this.pendingAppends.length > 0) this.settleAppend(true)
      while (this.markerJobs.length > 0) this.deliverMarkers(!this.markerJobs.some(job =>
        this.#isCurrent(job)))
      if (this.pendingAppends.length === 0 && this.markerJobs.length === 0) {
        const ongoing = [...this.machines.values()].some(m => m.state.startsWith('Prepare') ||
          m.state === 'Ongoing')
        if (!ongoing) return
      }
      this.advance(true)
    }
    assert.fail('transactions did not settle in the calm phase')
  }

  checkOutcomes (final: boolean): void {
    const outcome = new Map<string, Set<string>>()
    for (const entries of this.partitions) {
      const open = new Map<number, string[]>()
      for (const entry of entries) {
        if (entry.kind === 'data') {
          const list = open.get(entry.producerId) ?? []
          list.push(entry.attempt)
          open.set(entry.producerId, list)
          continue
        }
        for (const attempt of open.get(entry.producerId) ?? []) {
          const set = outcome.get(attempt) ?? new Set()
          set.add(entry.commit ? 'commit' : 'abort')
          outcome.set(attempt, set)
        }
        open.delete(entry.producerId)
      }
      if (final) {
        assert.equal([...open.values()].flat().length, 0, 'a hanging transaction: data with no ' +
          'marker after everything settled')
      }
    }
    for (const [attempt, set] of outcome) {
      assert.ok(set.size === 1, `transaction ${attempt} is partly committed and partly aborted`)
      if (set.has('commit')) {
        assert.ok(!this.abortAcked.has(attempt), `aborted ${attempt} became visible`)
      }
    }
    if (final) {
      for (const attempt of this.commitAcked) {
        const set = outcome.get(attempt)
        assert.ok(set === undefined || set.has('commit'), `acknowledged commit ${attempt} lost`)
      }
    }
  }
}

export interface TxnSimResult { commits: number, aborts: number, crashes: number,
  lateMarkers: number, fencedMarkers: number }

export function simulateTransactions (seed: number, steps = 3_000): TxnSimResult {
  const sim = new TxnSim(seed)
  try {
    for (let step = 0; step < steps; step++) {
      sim.chaos()
      if (step % 50 === 0) sim.checkOutcomes(false)
    }
    sim.calm()
    sim.checkOutcomes(true)
  } catch (error) {
    throw new Error(`transaction simulation failed with seed ${seed} (replay: TXN_SEED=${seed})` +
      `: ${(error as Error).message}`, { cause: error })
  }
  return { commits: sim.commitAcked.size, aborts: sim.abortAcked.size, crashes: sim.incarnation,
    lateMarkers: sim.lateMarkers, fencedMarkers: sim.fencedMarkers }
}
