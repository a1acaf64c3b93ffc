/**
 * Leader and follower roles of the partitions this broker hosts in a cluster (Kafka's
 * ReplicaManager.applyDelta → makeLeaders / makeFollowers), and the I/O driver around the pure
 * LeaderPartitionState (partition-state.ts) of each partition it leads.
 *
 * Roles follow the metadata: each Partition record is a role for (leader, leader epoch).
 * - Leader here: the fetchers stop fetching it (waiting for a response being applied), the log
 *   hands its high watermark to this layer (`setReplicated(true)`), and a fresh leader state
 *   starts with the ISR of the metadata and its epoch starting at the log end offset.
 * - Another leader: the leader state goes (produce and consume answer NOT_LEADER_OR_FOLLOWER,
 *   through the replica manager's mayLead) and the partition is fetched from the new leader;
 *   its first fetch carries the last fetched epoch, so the leader's diverging_epoch answer
 *   truncates what this log has and the leader lacks (KIP-279 / KIP-320).
 * - No leader (-1, offline): neither.
 * A record with the same leader and epoch only changes the ISR: the leader state applies it.
 *
 * The high watermark of a led partition is the leader state's, pushed into the log with
 * `advanceHighWatermark` whenever it moves (a durable leader append, a follower fetch, an ISR
 * change), and every move wakes the partition's waiters in the purgatory (acks=all produces,
 * consumer long polls).
 *
 * A led partition's log reports its written end (`onWrittenEnd`): new written bytes, before
 * their fsync, wake only the followers' fetches (`wakeFollowers`), so their copy overlaps the
 * leader's fdatasync; a failed write's cut goes to the leader state (`onWrittenCut`), which
 * makes followers drop the lost tail before the log takes leader appends again.
 *
 * ISR changes go to the controller (AlterPartition) on a timer (replica.lag.time.max.ms / 2)
 * and after follower fetches, one in flight per partition. A refused shrink or a definitely
 * refused expansion is dropped; an expansion whose outcome is unknown (a timeout) stays pending,
 * so the high watermark keeps counting the new member, and is sent again: clearing it could
 * let the HW pass a member the controller did add.
 */
import type { Clock, TimerHandle } from '../io/clock.js'
import type { MetadataImage, PartitionInfo } from '../metadata/image.js'
import { assert } from '../util/assert.js'
import { LeaderPartitionState, type IsrChange } from './partition-state.js'
import type { ReplicaFetcherManager } from './replica-fetcher.js'
import type { ByteRateThrottle } from './byte-rate-throttle.js'
import type { ReplicaLog } from './replica-log.js'
import { partitionKey, splitPartitionKey } from '../util/partition-key.js'

/**
 * AlterPartition refusals that prove no send of this change was ever applied: the controller
 * gives them only after it matched the partition epoch (Controller.#validateAlterPartition),
 * so an earlier send of the same change with an unknown outcome was not committed either
 * (Kafka reverts to the committed ISR only on INELIGIBLE_REPLICA and OPERATION_NOT_ATTEMPTED,
 * Partition.handleAlterPartitionError). Any other refusal (NOT_CONTROLLER during a failover,
 * a stale partition epoch, a fenced leader) leaves an expansion pending until the metadata
 * says what the ISR is: dropping it could let the HW pass a replica the controller did add.
 */
const DEFINITE_REFUSALS = new Set(['INELIGIBLE_REPLICA', 'INVALID_REQUEST'])

export interface AlterPartitionRequest extends IsrChange {
  topic: string
  partition: number
  leaderId: number
}

export interface ReplicaRolesOptions {
  nodeId: number
  clock: Clock
  image: MetadataImage
  replicaLagTimeMaxMs: number
  fetchers: ReplicaFetcherManager
  logOf (topic: string, partition: number): ReplicaLog | undefined
  /** Sends an ISR change to the controller; rejects with an error carrying `errorName`. */
  alterPartition (change: AlterPartitionRequest): Promise<PartitionInfo>
  /** The partition's high watermark moved or its role changed: wake its waiters. */
  notify (topic: string, partition: number): void
  /**
   * A partition led here has new written bytes (maybe not yet fsynced): wake its followers'
   * fetches only (consumers read below the high watermark, which has not moved).
   */
  wakeFollowers (topic: string, partition: number): void
  /** leader.replication.throttled.rate: bounds the bytes followers fetch from here per second. */
  leaderThrottle?: ByteRateThrottle
  logger: { info (message: string): void, warn (message: string): void }
}

interface Role {
  leaderId: number
  leaderEpoch: number
}

export class ReplicaRoles {
  readonly #options: ReplicaRolesOptions
  readonly #roles = new Map<string, Role>()
  readonly #leaders = new Map<string, LeaderPartitionState>()
  /** The `onWrittenEnd` subscription of each partition led here. */
  readonly #writtenHooks = new Map<string, () => void>()
  /** Partitions whose AlterPartition is on the wire. */
  readonly #inFlight = new Set<string>()
  #timer: TimerHandle | undefined
  #closed = false

  constructor (options: ReplicaRolesOptions) {
    this.#options = options
  }

  /** Starts the periodic ISR check (Kafka's isr-expiration task, every lag time / 2). */
  start (): void {
    const intervalMs = Math.max(1, Math.floor(this.#options.replicaLagTimeMaxMs / 2))
    const tick = (): void => {
      if (this.#closed) return
      this.checkIsr()
      this.#timer = this.#options.clock.setTimer(intervalMs, tick)
    }
    this.#timer = this.#options.clock.setTimer(intervalMs, tick)
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#timer?.cancel()
    await this.#options.fetchers.close()
  }

  get leaderThrottle (): ByteRateThrottle | undefined {
    return this.#options.leaderThrottle
  }

  leaderState (topic: string, partition: number): LeaderPartitionState | undefined {
    return this.#leaders.get(partitionKey(topic, partition))
  }

  /**
   * Each follower's lag behind this broker's led partitions, for the replication metrics
   * (records: the leader's durable end minus what the follower reported; ms: since it last
   * caught up, Kafka's lastCaughtUpTimeMs).
   */
  replicationSamples (): { topic: string, partition: number, followerId: number,
    lagRecords: number, lagMs: number, inSync: boolean }[] {
    const nowMs = this.#options.clock.monotonicMs()
    const samples = []
    for (const [key, leader] of this.#leaders) {
      const [topic, partition] = splitPartitionKey(key)
      for (const lag of leader.followerLags()) {
        samples.push({ topic, partition, followerId: lag.followerId, lagRecords: lag.lagRecords,
          lagMs: Math.max(0, nowMs - lag.lastCaughtUpTimeMs),
          inSync: leader.isr.includes(lag.followerId) })
      }
    }
    return samples
  }

  /**
   * Brings every hosted partition's role in line with the image (called after each metadata
   * publication, serialized). `hosted` says whether this broker has the partition's replica.
   */
  async apply (image: MetadataImage): Promise<void> {
    const seen = new Set<string>()
    for (const topic of image.topics()) {
      for (const info of topic.partitions) {
        if (!info.replicas.includes(this.#options.nodeId)) continue
        const log = this.#options.logOf(topic.name, info.partitionId)
        if (log === undefined) continue
        const key = partitionKey(topic.name, info.partitionId)
        seen.add(key)
        await this.#applyPartition(topic.name, info, log)
      }
    }
    for (const key of [...this.#roles.keys()]) {
      if (seen.has(key)) continue
      const [topic, partition] = splitPartitionKey(key)
      this.#roles.delete(key)
      this.#dropLeader(key)
      await this.#options.fetchers.remove(topic, partition)
      this.#options.notify(topic, partition)
    }
  }

  async #applyPartition (topic: string, info: PartitionInfo, log: ReplicaLog): Promise<void> {
    const key = partitionKey(topic, info.partitionId)
    const role = this.#roles.get(key)
    const same = role !== undefined && role.leaderId === info.leader &&
      role.leaderEpoch === info.leaderEpoch
    if (same) {
      const leader = this.#leaders.get(key)
      if (leader !== undefined) {
        if (leader.applyMetadata(this.#leaderAndIsr(info), this.#options.clock.monotonicMs())) {
          this.#advance(topic, info.partitionId, log, leader)
        }
      }
      return
    }
    this.#roles.set(key, { leaderId: info.leader, leaderEpoch: info.leaderEpoch })
    this.#dropLeader(key)
    this.#inFlight.delete(key)
    log.setReplicated(true)
    if (info.leader === this.#options.nodeId) {
      await this.#becomeLeader(topic, info, log)
    } else if (info.leader >= 0) {
      this.#options.logger.info(`${topic}-${info.partitionId}: following broker ` +
        `${info.leader} in leader epoch ${info.leaderEpoch}`)
      await this.#options.fetchers.assign(topic, info.partitionId, info.leader, info.leaderEpoch)
    } else {
      await this.#options.fetchers.remove(topic, info.partitionId)
    }
    // Waiters of the old role (acks=all produces, long polls) re-check and answer.
    this.#options.notify(topic, info.partitionId)
  }

  async #becomeLeader (topic: string, info: PartitionInfo, log: ReplicaLog): Promise<void> {
    await this.#options.fetchers.remove(topic, info.partitionId)
    // A new leader epoch: a tail an earlier failed write cut off is told apart by its epoch
    // (KIP-320), so appends may go on.
    log.liftCutFence()
    const leader = new LeaderPartitionState(this.#leaderAndIsr(info), {
      leaderEndOffset: log.acknowledgedEndOffset,
      epochStartOffset: log.logEndOffset,
      highWatermark: log.highWatermark,
      nowMs: this.#options.clock.monotonicMs(),
      replicaLagTimeMaxMs: this.#options.replicaLagTimeMaxMs,
    })
    const key = partitionKey(topic, info.partitionId)
    this.#leaders.set(key, leader)
    this.#writtenHooks.set(key, log.onWrittenEnd((writtenEndOffset, cut) => {
      if (cut) {
        leader.onWrittenCut(writtenEndOffset)
        // No other replica (RF=1) could have copied the tail: appends go on at once.
        if (!leader.awaitingCutTruncation) log.liftCutFence()
      }
      // After a cut too: a follower parked past it hears at once that it must truncate.
      this.#options.wakeFollowers(topic, info.partitionId)
    }))
    this.#options.logger.info(`${topic}-${info.partitionId}: leader in epoch ` +
      `${info.leaderEpoch} from offset ${log.logEndOffset} (ISR ${info.isr.join(',')})`)
    this.#advance(topic, info.partitionId, log, leader)
  }

  #dropLeader (key: string): void {
    this.#leaders.delete(key)
    this.#writtenHooks.get(key)?.()
    this.#writtenHooks.delete(key)
  }

  #leaderAndIsr (info: PartitionInfo): {
    leaderId: number, leaderEpoch: number, partitionEpoch: number, replicas: number[],
    isr: number[]
  } {
    return { leaderId: info.leader, leaderEpoch: info.leaderEpoch,
      partitionEpoch: info.partitionEpoch, replicas: info.replicas, isr: info.isr }
  }

  /** Pushes the leader state's high watermark into the log and wakes waiters. */
  #advance (topic: string, partition: number, log: ReplicaLog,
    leader: LeaderPartitionState): void {
    const before = log.highWatermark
    log.advanceHighWatermark(leader.highWatermark)
    // The log's HW is the leader state's, capped by the durable end the state also counts.
    assert(log.highWatermark <= log.logEndOffset, 'high watermark ≤ log end offset')
    if (log.highWatermark !== before) this.#options.notify(topic, partition)
  }

  /** A durable append on a partition led here: its own end moved. */
  onLeaderAppend (topic: string, partition: number, log: ReplicaLog): void {
    const leader = this.#leaders.get(partitionKey(topic, partition))
    if (leader === undefined) return
    if (leader.onLeaderEndOffset(log.acknowledgedEndOffset)) {
      this.#advance(topic, partition, log, leader)
    }
  }

  /**
   * A follower fetched at `fetchOffset` (its durable end): record it, move the HW, and see
   * whether it may join the ISR. The caller validated the replica and epochs.
   */
  onFollowerFetch (topic: string, partition: number, log: ReplicaLog, replicaId: number,
    fetchOffset: number): void {
    const key = partitionKey(topic, partition)
    const leader = this.#leaders.get(key)
    if (leader === undefined) return
    const nowMs = this.#options.clock.monotonicMs()
    leader.onLeaderEndOffset(log.acknowledgedEndOffset)
    leader.onFollowerFetch(replicaId, fetchOffset, log.logEndOffset, nowMs)
    this.#advance(topic, partition, log, leader)
    if (leader.isExpandCandidate(replicaId, id => this.#isLive(id))) {
      this.#proposeIsrChange(key, leader)
    }
  }

  #isLive (brokerId: number): boolean {
    return this.#options.image.brokers.has(brokerId)
  }

  /** Proposes the ISR changes that are due on every led partition (the periodic check). */
  checkIsr (): void {
    for (const [key, leader] of this.#leaders) this.#proposeIsrChange(key, leader)
  }

  #proposeIsrChange (key: string, leader: LeaderPartitionState): void {
    if (this.#inFlight.has(key)) return
    const nowMs = this.#options.clock.monotonicMs()
    // A change left pending by an unknown outcome is sent again as it was.
    const change = leader.pendingChange ??
      leader.proposeIsrChange(nowMs, id => this.#isLive(id))
    if (change === undefined) return
    const [topic, partition] = splitPartitionKey(key)
    this.#inFlight.add(key)
    this.#options.logger.info(`${topic}-${partition}: asking the controller to ${change.kind} ` +
      `the ISR from [${leader.isr.join(',')}] to [${change.isr.join(',')}]`)
    this.#options.alterPartition({ ...change, topic, partition, leaderId: leader.leaderId })
      .then(info => {
        // Committed changes arrive as Partition records (the metrics count them there);
        // an unchanged partition epoch means there was nothing to change.
        if (info.partitionEpoch === change.partitionEpoch && this.#leaders.get(key) === leader &&
          leader.pendingChange === change) leader.changeFailed()
      }, (error: unknown) => {
        const errorName = (error as { errorName?: unknown }).errorName
        this.#options.logger.warn(`${topic}-${partition}: ISR ${change.kind} refused: ` +
          `${String(errorName ?? '')} ${(error as Error).message}`)
        if (this.#leaders.get(key) !== leader || leader.pendingChange !== change) return
        const definite = typeof errorName === 'string' && DEFINITE_REFUSALS.has(errorName)
        // A shrink may be dropped whatever happened: the committed ISR the HW then uses is
        // the larger one until the metadata says otherwise.
        if (change.kind === 'shrink' || definite) leader.changeFailed()
      })
      .finally(() => { this.#inFlight.delete(key) })
  }
}


