/**
 * The replica manager: the one path by which records enter and leave partition logs, shared by
 * the Kafka Produce/Fetch handlers and the HTTP API (same validation, same durability, same
 * metrics).
 *
 * On one node every partition is led here with an ISR of one. The high watermark is the
 * partition log's (PartitionLog.highWatermark, its one definition): the durable end of the log
 * with `tributary.fsync.before.ack` (the default), so a consumer never sees a record that a
 * power loss could take back; the written end in the relaxed mode (Kafka's flush.messages /
 * flush.ms), never a reservation whose write may still fail. It never goes backwards.
 *
 * In a cluster (src/replication) the replication layer's ReplicaRoles decides which partitions
 * are led here and drives their high watermark: min over the ISR of each member's durable log
 * end offset (replication/partition-state.ts, its one definition there). A single node keeps
 * the log's own high watermark, which is the same value for an ISR of one (the durable end),
 * at no extra cost. acks=all waits for the high watermark to pass the batch in the purgatory,
 * keyed by partition, bounded by the request's timeout (Kafka's DelayedProduce).
 *
 * Invariant: high watermark ≤ log end offset, asserted on every read of it.
 *
 * Size: over 600 lines because it is the one gate of every partition read and write (produce
 * with acks, markers, consumer reads, follower reads, OffsetForLeaderEpoch), each behind the
 * same leadership check (#requireLog); the replication logic itself lives in src/replication.
 */
import type { Clock } from '../io/clock.js'
import type { MetadataPublisher } from '../controller/controller.js'
import { METADATA_TOPIC } from '../controller/metadata-topic.js'
import type { MetadataImage } from '../metadata/image.js'
import type { MetadataRecord } from '../metadata/records.js'
import {
  batchSizeAt, MAX_TIMESTAMP_OFFSET, ATTRIBUTES_OFFSET, TIMESTAMP_TYPE_MASK,
  readInt64, writeBatchCrc, writeInt64,
} from '../records/batch-header.js'
import { buildControlBatch } from '../records/control-batch.js'
import { RecordsError, validateProducedBatches } from '../records/validate.js'
import type { LogManager } from '../storage/log-manager.js'
import type { PartitionLog } from '../storage/partition-log.js'
import type { LogConfig } from '../storage/log-config.js'
import { assert } from '../util/assert.js'
import type { ReplicaRoles } from '../replication/replica-roles.js'
import { divergingEpochFor, leaderEpochEnd } from '../replication/divergence.js'
import type { LeaderPartitionState } from '../replication/partition-state.js'
import type { ReplicaLog } from '../replication/replica-log.js'
import type { EpochEndOffset } from '../protocol/apis/fetch.js'
import type { LatencySampler } from './latency-sampler.js'
import { partitionKey, Purgatory } from './delayed-operations.js'
import { isInternalTopic } from './internal-topics.js'

/** The per-topic settings the produce path needs beyond the storage engine's LogConfig. */
export interface TopicSettings {
  log: Partial<LogConfig>
  maxMessageBytes: number
  messageTimestampType: 'CreateTime' | 'LogAppendTime'
  messageTimestampDifferenceMaxMs: number
  /** Replicas that must be in sync for acks=all (min.insync.replicas). */
  minInsyncReplicas: number
}

/** A failure with the Kafka error name to put on the wire and a message for humans. */
export class PartitionError extends Error {
  override name = 'PartitionError'
  readonly errorName: string
  /** The one record at fault in a refused batch, if one is (Produce record_errors). */
  readonly recordIndex: number | undefined

  constructor (errorName: string, message: string, recordIndex?: number) {
    super(message)
    this.errorName = errorName
    this.recordIndex = recordIndex
  }
}

/** How `appendRecords` appends and when it resolves. */
export interface AppendOptions {
  /** Internal topics are written only by the broker's own coordinators. */
  internalTopicsAllowed?: boolean
  /** A transactional produce's coordinator check, re-run as offsets are assigned. */
  verifyTransaction?: () => { kind: string, message: string } | undefined
  /** -1 waits for the ISR (acks=all); 0 and 1 for this broker's durable append (default). */
  acks?: number
  /** How long acks=all waits for the ISR (Produce timeout_ms); default 30 s. */
  timeoutMs?: number
}

export interface AppendResult {
  baseOffset: number
  lastOffset: number
  logAppendTimeMs: number
  logStartOffset: number
  recordsCount: number
  sizeBytes: number
  duplicate: boolean
}

export interface PartitionRead {
  records: Buffer
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
  /** read_committed only: aborted transactions overlapping the records returned. */
  abortedTransactions?: { producerId: number, firstOffset: number }[]
}

/** A leader's answer to a follower's fetch of one partition. */
export interface FollowerRead extends PartitionRead {
  /** KIP-320: the follower's log diverges; it truncates instead of getting records. */
  divergingEpoch?: EpochEndOffset
}

/** What a follower's fetch says of one partition (FetchRequest fields). */
export interface FollowerFetch {
  replicaId: number
  fetchOffset: number
  currentLeaderEpoch: number
  lastFetchedEpoch: number
}

/** A COMMIT or ABORT marker for one partition (WriteTxnMarkers' entry). */
export interface TxnMarkerWrite {
  producerId: number
  producerEpoch: number
  commit: boolean
  coordinatorEpoch: number
}

export interface ReplicaManagerOptions {
  nodeId: number
  logManager: LogManager
  image: MetadataImage
  clock: Clock
  purgatory: Purgatory
  topicSettings: (topic: string) => TopicSettings
  onAppended?: (topic: string, partition: number, result: AppendResult, durableMs: number) => void
  onRead?: (topic: string, bytes: number, records: number) => void
  /** The debug latency breakdown, when tributary.debug.latency.sample.rate > 0. */
  latencySampler?: LatencySampler
  logger?: { warn (message: string): void }
  /**
   * In a cluster: whether this broker may act as leader of the partition now (it is the
   * partition's leader in the image and its session is alive: a fenced broker leads nothing).
   * Absent on a single node, which leads every partition.
   */
  mayLead?: (topic: string, partition: number) => boolean
  /** In a cluster: whether this broker holds a replica of the partition (absent: all). */
  hostsReplica?: (replicas: readonly number[]) => boolean
  /** In a cluster: leader and follower roles, the ISR and the high watermark. */
  roles?: ReplicaRoles
}

export class ReplicaManager implements MetadataPublisher {
  readonly #options: ReplicaManagerOptions

  constructor (options: ReplicaManagerOptions) {
    this.#options = options
  }

  get purgatory (): Purgatory {
    return this.#options.purgatory
  }

  /**
   * Follows the metadata (a MetadataPublisher, called by the controller after every commit,
   * serialized): partitions led here get their logs, removed topics lose theirs, and changed
   * topic configs reach the open logs. Nobody else calls this.
   */
  async publish (image: MetadataImage, records: readonly MetadataRecord[] | undefined):
  Promise<void> {
    if (records === undefined) {
      await this.#reconcile('start-up')
      await this.#options.roles?.apply(image)
      return
    }
    if (records.some(record => record.type === 'Topic' || record.type === 'Partition' ||
      record.type === 'RemoveTopic')) {
      await this.#reconcile('live')
      await this.#options.roles?.apply(image)
    }
    for (const record of records) {
      if (record.type === 'Config' && record.resourceType === 'topic' &&
        image.topic(record.resourceName) !== undefined) {
        this.#applyTopicConfig(record.resourceName)
      }
    }
  }

  /**
   * Creates missing local logs for partitions led here; a log whose topic the image does not
   * have is deleted when a live RemoveTopic took it away, but only set aside (renamed
   * `-stray`, Kafka's stray logs, KAFKA-14616) at start-up, where an image that lost topics
   * must not cost their data.
   */
  async #reconcile (mode: 'start-up' | 'live'): Promise<void> {
    const { image, logManager } = this.#options
    const wanted = new Set<string>()
    for (const topic of image.topics()) {
      // A data directory from before the name was reserved may list it; its log is elsewhere.
      if (topic.name === METADATA_TOPIC) continue
      const settings = this.#options.topicSettings(topic.name)
      for (const partition of topic.partitions) {
        if (this.#options.hostsReplica?.(partition.replicas) === false) continue
        wanted.add(partitionKey(topic.name, partition.partitionId))
        if (logManager.getLog(topic.name, partition.partitionId) === undefined) {
          await logManager.getOrCreateLog(topic.name, partition.partitionId, settings.log)
        }
        await logManager.recordTopicId(topic.name, partition.partitionId, topic.topicId)
      }
    }
    for (const log of [...logManager.logs()]) {
      const key = partitionKey(log.topic, log.partition)
      if (wanted.has(key)) continue
      if (mode === 'live') {
        await logManager.deleteLog(log.topic, log.partition)
      } else {
        const setAside = await logManager.setAsideLog(log.topic, log.partition)
        this.#options.logger?.warn(`${log.topic}-${log.partition} is not in the cluster ` +
          `metadata; its log was set aside as ${String(setAside)} (not deleted)`)
      }
      this.#options.purgatory.notify(key)
    }
  }

  /** Pushes a topic's current settings to its partition logs (after a Config record). */
  #applyTopicConfig (topic: string): void {
    const settings = this.#options.topicSettings(topic)
    const partitions = this.#options.image.topic(topic)?.partitions ?? []
    for (const partition of partitions) {
      this.log(topic, partition.partitionId)?.updateConfig(settings.log)
    }
  }

  log (topic: string, partition: number): PartitionLog | undefined {
    return this.#options.logManager.getLog(topic, partition)
  }

  #requireLog (topic: string, partition: number): PartitionLog {
    const log = this.log(topic, partition)
    const known = this.#options.image.topic(topic)?.partitions[partition] !== undefined
    // In a cluster, also while the log of a partition just assigned here is still being
    // created: Kafka's getPartitionOrError answers NOT_LEADER_OR_FOLLOWER for a partition that
    // the metadata has and this broker does not host (yet).
    const notHere = log === undefined && this.#options.mayLead !== undefined
    if (known && (notHere || this.#options.mayLead?.(topic, partition) === false)) {
      // Kafka's answer from a broker that is not (or no longer) the leader: clients refresh
      // their metadata and go to the leader.
      throw new PartitionError('NOT_LEADER_OR_FOLLOWER',
        `this broker is not the leader of ${topic}-${partition}`)
    }
    if (log === undefined || !known) {
      throw new PartitionError('UNKNOWN_TOPIC_OR_PARTITION',
        `this server does not host partition ${topic}-${partition}`)
    }
    return log
  }

  /**
   * The partition's log for a client request, which only the leader serves (Kafka's
   * getPartitionOrError then checkCurrentLeaderEpoch): NOT_LEADER_OR_FOLLOWER on another
   * replica, UNKNOWN_TOPIC_OR_PARTITION where there is none. A client that names the leader
   * epoch it knows (KIP-320: Fetch, ListOffsets, OffsetForLeaderEpoch; -1 names none) is
   * refused with FENCED_LEADER_EPOCH when that epoch is older than the partition's, so it
   * refreshes its metadata and validates its position, and UNKNOWN_LEADER_EPOCH when it is
   * newer (this broker has not applied that metadata yet).
   */
  leaderLog (topic: string, partition: number, currentLeaderEpoch = -1): PartitionLog {
    const log = this.#requireLog(topic, partition)
    checkCurrentLeaderEpoch(`${topic}-${partition}`, currentLeaderEpoch,
      this.#leaderEpoch(topic, partition))
    return log
  }

  highWatermark (log: PartitionLog): number {
    const highWatermark = log.highWatermark
    // Acknowledged data is a prefix of the log, so it can never pass the log end.
    assert(highWatermark <= log.logEndOffset, 'high watermark must not pass the log end offset')
    return highWatermark
  }

  /**
   * Validates and appends one produced batch; internal topics only with
   * `internalTopicsAllowed` (the broker's own writers). Resolves once the batch is durable per
   * the flush policy; throws PartitionError with the Kafka error name on any refusal.
   */
  async appendRecords (topic: string, partition: number, batch: Buffer,
    options: AppendOptions = {}): Promise<AppendResult> {
    // Kafka's ReplicaManager.appendToLocalLog: only the broker itself (the group coordinator)
    // writes internal topics; Kafka Produce and HTTP produce get INVALID_TOPIC_EXCEPTION.
    if (isInternalTopic(topic) && options.internalTopicsAllowed !== true) {
      throw new PartitionError('INVALID_TOPIC_EXCEPTION',
        `Cannot append to internal topic ${topic}`)
    }
    const log = this.#requireLog(topic, partition)
    const settings = this.#options.topicSettings(topic)
    const ackAll = options.acks === -1 && this.#options.roles !== undefined
    if (ackAll) this.#checkEnoughReplicas(topic, partition, settings.minInsyncReplicas)
    const trace = this.#options.latencySampler?.startProduce()
    const nowMs = this.#options.clock.nowMs()
    const validated = await validate(batch, settings, nowMs)
    let maxTimestamp = validated.maxTimestamp
    if (settings.messageTimestampType === 'LogAppendTime') {
      maxTimestamp = nowMs
      stampLogAppendTime(batch, nowMs)
    }
    const startedMs = this.#options.clock.monotonicMs()
    let appended
    try {
      appended = await log.append(batch, {
        leaderEpoch: this.#leaderEpoch(topic, partition),
        recordsCount: validated.recordsCount,
        maxTimestamp,
        producerId: validated.producerId,
        producerEpoch: validated.producerEpoch,
        baseSequence: validated.baseSequence,
        isTransactional: validated.isTransactional,
        verifyTransaction: options.verifyTransaction,
        trace,
      })
      if (trace !== undefined) trace.acknowledgedMs = this.#options.clock.monotonicMs()
    } catch (error) {
      throw toPartitionError(error, `${topic}-${partition}`)
    }
    const result: AppendResult = {
      baseOffset: appended.baseOffset,
      lastOffset: appended.lastOffset,
      logAppendTimeMs: settings.messageTimestampType === 'LogAppendTime' ? nowMs : -1,
      logStartOffset: log.logStartOffset,
      recordsCount: validated.recordsCount,
      sizeBytes: batch.length,
      duplicate: appended.duplicate,
    }
    this.#options.roles?.onLeaderAppend(topic, partition, log)
    if (!appended.duplicate) {
      this.#options.onAppended?.(topic, partition, result,
        this.#options.clock.monotonicMs() - startedMs)
    }
    // Wakes consumers (the HW moved on a single node) and followers' long polls (new data).
    const woken = this.#options.purgatory.notify(partitionKey(topic, partition))
    if (trace !== undefined) this.#options.latencySampler?.finishProduce(trace, woken)
    if (ackAll) {
      await this.#waitForIsr(topic, partition, appended.lastOffset, settings.minInsyncReplicas,
        options.timeoutMs ?? ACK_ALL_TIMEOUT_DEFAULT_MS)
    }
    return result
  }

  /** Kafka's Partition.appendRecordsToLeader: acks=all needs min.insync.replicas in the ISR. */
  #checkEnoughReplicas (topic: string, partition: number, minInsyncReplicas: number): void {
    const leader = this.#options.roles?.leaderState(topic, partition)
    if (leader === undefined) {
      throw new PartitionError('NOT_LEADER_OR_FOLLOWER',
        `this broker is not the leader of ${topic}-${partition}`)
    }
    if (!leader.hasEnoughReplicas(minInsyncReplicas)) {
      throw new PartitionError('NOT_ENOUGH_REPLICAS', `${topic}-${partition} has ` +
        `${leader.isr.length} in-sync replicas [${leader.isr.join(',')}], fewer than ` +
        `min.insync.replicas ${minInsyncReplicas}`)
    }
  }

  /**
   * Kafka's DelayedProduce: waits until the high watermark passes `lastOffset` (every ISR
   * member has the batch, durably), in the purgatory keyed by the partition, which every HW
   * move and role change wakes. NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below
   * min.insync.replicas meanwhile; NOT_LEADER_OR_FOLLOWER when leadership moved (the batch may
   * or may not survive: an indefinite failure); REQUEST_TIMED_OUT past `timeoutMs`.
   */
  async #waitForIsr (topic: string, partition: number, lastOffset: number,
    minInsyncReplicas: number, timeoutMs: number): Promise<void> {
    const key = partitionKey(topic, partition)
    const first = this.#options.roles?.leaderState(topic, partition)
    const deadlineMs = this.#options.clock.monotonicMs() + Math.max(0, timeoutMs)
    for (;;) {
      const leader = this.#options.roles?.leaderState(topic, partition)
      if (leader === undefined || leader !== first) {
        throw new PartitionError('NOT_LEADER_OR_FOLLOWER', `leadership of ${topic}-${partition} ` +
          'moved before the in-sync replicas had the batch; it may or may not be kept')
      }
      const status = leader.ackAllStatus(lastOffset, minInsyncReplicas)
      if (status === 'done') return
      if (status === 'not-enough-replicas-after-append') {
        throw new PartitionError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', `${topic}-${partition}: ` +
          `the batch is written but the ISR [${leader.isr.join(',')}] shrank below ` +
          `min.insync.replicas ${minInsyncReplicas}`)
      }
      const remainingMs = deadlineMs - this.#options.clock.monotonicMs()
      if (remainingMs <= 0) {
        throw new PartitionError('REQUEST_TIMED_OUT', `${topic}-${partition}: the in-sync ` +
          `replicas did not all have the batch within ${timeoutMs} ms; it may still be kept`)
      }
      if (this.#options.purgatory.full) {
        // No room to wait for a wake-up: poll instead of spinning.
        await new Promise<void>(resolve => {
          this.#options.clock.setTimer(Math.min(remainingMs, FULL_PURGATORY_POLL_MS), resolve)
        })
      } else {
        await this.#options.purgatory.wait([key], remainingMs)
      }
    }
  }

  #leaderEpoch (topic: string, partition: number): number {
    return this.#options.image.topic(topic)?.partitions[partition]?.leaderEpoch ?? 0
  }

  /**
   * Appends a transaction marker (a control batch, KIP-98) as the partition leader: the
   * producer's transaction on this partition ends, its epoch fences older ones, its
   * coordinator epoch fences deposed coordinators (TRANSACTION_COORDINATOR_FENCED, from the
   * partition's producer state, so it holds across restarts and failovers), and an ABORT
   * marker records the aborted range for read_committed fetches. Only the transaction
   * coordinator calls this (WriteTxnMarkers; in-process on one broker). In a cluster it
   * resolves once the ISR has the marker (acks=all, as Kafka writes markers).
   */
  async appendTxnMarker (topic: string, partition: number, marker: TxnMarkerWrite):
  Promise<number> {
    const log = this.#requireLog(topic, partition)
    const nowMs = this.#options.clock.nowMs()
    const batch = buildControlBatch({ ...marker, timestampMs: nowMs })
    try {
      const appended = await log.append(batch, {
        leaderEpoch: this.#leaderEpoch(topic, partition), recordsCount: 1, maxTimestamp: nowMs,
        producerId: marker.producerId, producerEpoch: marker.producerEpoch, baseSequence: -1,
        isTransactional: true, abortMarker: !marker.commit,
      })
      this.#options.roles?.onLeaderAppend(topic, partition, log)
      this.#options.purgatory.notify(partitionKey(topic, partition))
      if (this.#options.roles !== undefined) {
        // Kafka writes markers with acks=all (requiredAcks -1): a marker the ISR lacks could
        // vanish in a failover and leave the transaction open on the new leader.
        await this.#waitForIsr(topic, partition, appended.lastOffset,
          this.#options.topicSettings(topic).minInsyncReplicas, ACK_ALL_TIMEOUT_DEFAULT_MS)
      }
      return appended.baseOffset
    } catch (error) {
      throw toPartitionError(error, `${topic}-${partition}`)
    }
  }

  /**
   * A follower's fetch of a partition led here (Kafka's Partition.fetchRecords for a replica):
   * only from one of its replicas, only while this broker leads it with a live session, only
   * in the leader epoch the follower names (older: FENCED_LEADER_EPOCH; newer:
   * UNKNOWN_LEADER_EPOCH, this broker has not seen it yet). If the follower's last fetched
   * epoch ends earlier here than its fetch offset, its log diverges: the answer is where
   * (diverging_epoch, KIP-320) and no records. Otherwise its fetch offset is its durable log
   * end offset: recorded, which may move the high watermark and the ISR; and it reads up to the
   * log end offset, not the high watermark. Internal topics are replicated like any other.
   */
  async readForFollower (topic: string, partition: number, fetch: FollowerFetch,
    maxBytes: number, minOneBatch: boolean): Promise<FollowerRead> {
    const log = this.#requireLog(topic, partition)
    const leader = this.#options.roles?.leaderState(topic, partition)
    const name = `${topic}-${partition}`
    if (leader === undefined || !leader.isReplica(fetch.replicaId)) {
      throw new PartitionError('NOT_LEADER_OR_FOLLOWER', leader === undefined
        ? `this broker is not the leader of ${name}`
        : `broker ${fetch.replicaId} is not a replica of ${name}`)
    }
    checkCurrentLeaderEpoch(name, fetch.currentLeaderEpoch, leader.leaderEpoch)
    const outOfRange = (): PartitionError => new PartitionError('OFFSET_OUT_OF_RANGE',
      `offset ${fetch.fetchOffset} is outside [${log.logStartOffset}, ${log.logEndOffset}] ` +
      `of ${name}`)
    if (fetch.fetchOffset < log.logStartOffset) throw outOfRange()
    // Before the end check: a follower ahead of this log diverges (an old leader's tail, or
    // this leader's own written tail lost to a failed write: LeaderPartitionState.onWrittenCut).
    const divergingEpoch = this.#divergenceAfterCut(log, leader, fetch) ??
      this.#divergence(log, leader, fetch, name)
    if (divergingEpoch === undefined && fetch.fetchOffset > log.logEndOffset) throw outOfRange()
    if (divergingEpoch === undefined) {
      this.#options.roles?.onFollowerFetch(topic, partition, log, fetch.replicaId,
        fetch.fetchOffset)
    }
    // leader.replication.throttled.rate: past it, followers get no records for a while (the
    // fetch still counts for the ISR), as Kafka leaves throttled partitions out of a response.
    const throttle = this.#options.roles?.leaderThrottle
    const nowMs = this.#options.clock.monotonicMs()
    const budget = Math.min(maxBytes, throttle?.available(nowMs) ?? maxBytes)
    // Up to the written end, fsynced or not (Kafka's followers read to the log end offset):
    // never a reservation whose bytes are not in the file yet.
    const read = divergingEpoch !== undefined || fetch.fetchOffset >= log.writtenEndOffset ||
      budget <= 0
      ? { records: EMPTY }
      : await log.read(fetch.fetchOffset, budget, {
        maxOffset: log.writtenEndOffset, minOneBatch,
      }).catch((error: unknown) => { throw toPartitionError(error, name) })
    throttle?.record(read.records.length, nowMs)
    return {
      records: read.records,
      highWatermark: this.highWatermark(log),
      lastStableOffset: log.lastStableOffset,
      logStartOffset: log.logStartOffset,
      ...(divergingEpoch === undefined ? {} : { divergingEpoch }),
    }
  }

  /**
   * OffsetForLeaderEpoch on the leader (Kafka's Partition.lastOffsetForLeaderEpoch): the end
   * offset of `leaderEpoch` in this log, after checking `currentLeaderEpoch` (-1: unchecked)
   * against the partition's leader epoch.
   */
  endOffsetForEpoch (topic: string, partition: number, currentLeaderEpoch: number,
    leaderEpoch: number): { leaderEpoch: number, endOffset: number } {
    const log = this.leaderLog(topic, partition, currentLeaderEpoch)
    const leader = this.#options.roles?.leaderState(topic, partition)
    return leader === undefined
      ? log.endOffsetForEpoch(leaderEpoch)
      : leaderEpochEnd(leaderEpoch, log, leader.leaderEpoch, leader.epochStartOffset)
  }

  /**
   * A follower that may have copied written bytes this leader then lost to a failed write
   * must truncate back to the end the leader kept (LeaderPartitionState.onWrittenCut): the
   * answer names its last fetched epoch, so it cuts to min(that end, its own end of the epoch).
   * Until every replica has, the log refuses leader appends (PartitionLog.cutFenced): records
   * written at those offsets in this epoch could not be told apart from the lost ones by a
   * later leader (the cut is known only here), so none are.
   */
  #divergenceAfterCut (log: PartitionLog, leader: LeaderPartitionState, fetch: FollowerFetch):
  EpochEndOffset | undefined {
    const endOffset = leader.truncationAfterCut(fetch.replicaId, fetch.fetchOffset)
    if (endOffset === undefined) {
      // The last follower that could hold the lost tail has dropped it: appends go on.
      if (log.cutFenced && !leader.awaitingCutTruncation) log.liftCutFence()
      return undefined
    }
    return {
      epoch: fetch.lastFetchedEpoch >= 0 ? fetch.lastFetchedEpoch : leader.leaderEpoch,
      endOffset,
    }
  }

  /**
   * KIP-320 (Kafka's Partition.fetchRecords, validateLastFetchedEpoch): where the follower's
   * log diverges from this one, or undefined when it does not.
   */
  #divergence (log: ReplicaLog, leader: LeaderPartitionState,
    fetch: FollowerFetch, name: string): EpochEndOffset | undefined {
    if (fetch.lastFetchedEpoch < 0) return undefined
    const diverging = divergingEpochFor(fetch.lastFetchedEpoch, fetch.fetchOffset,
      leaderEpochEnd(fetch.lastFetchedEpoch, log, leader.leaderEpoch, leader.epochStartOffset))
    if (diverging === 'unknown') {
      throw new PartitionError('OFFSET_OUT_OF_RANGE', `${name}: the end offset of the last ` +
        `fetched epoch ${fetch.lastFetchedEpoch} is unknown here`)
    }
    return diverging === undefined
      ? undefined
      : { epoch: diverging.leaderEpoch, endOffset: diverging.endOffset }
  }

  /**
   * Reads from `fetchOffset` up to the high watermark (read_uncommitted) or the last stable
   * offset (read_committed, with the aborted transactions in range, KIP-98). An offset below
   * the log start or above the log end is OFFSET_OUT_OF_RANGE (Kafka answers the same for the range (HW, LEO] only
   * when it is not a follower; between HW and LEO the answer is simply empty).
   */
  async readPartition (topic: string, partition: number, fetchOffset: number, maxBytes: number,
    minOneBatch: boolean, readCommitted = false, currentLeaderEpoch = -1):
    Promise<PartitionRead> {
    const log = this.leaderLog(topic, partition, currentLeaderEpoch)
    const highWatermark = this.highWatermark(log)
    const lastStableOffset = log.lastStableOffset
    // Ongoing transactions start at or after acknowledged data, so the LSO never passes the HW.
    assert(lastStableOffset <= highWatermark, 'last stable offset must not pass the high watermark')
    const readEnd = readCommitted ? lastStableOffset : highWatermark
    if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) {
      throw new PartitionError('OFFSET_OUT_OF_RANGE', `offset ${fetchOffset} is outside ` +
        `[${log.logStartOffset}, ${log.logEndOffset}] of ${topic}-${partition}`)
    }
    let records: Buffer = EMPTY
    if (fetchOffset < readEnd) {
      try {
        const sampler = this.#options.latencySampler
        const readStartMs = sampler?.sampleRead() === true ? this.#options.clock.monotonicMs()
          : undefined
        const read = await log.read(fetchOffset, maxBytes, {
          maxOffset: readEnd, minOneBatch,
        })
        if (readStartMs !== undefined) {
          sampler?.recordRead(this.#options.clock.monotonicMs() - readStartMs)
        }
        records = read.records
        if (this.#options.onRead !== undefined) {
          this.#options.onRead(topic, records.length, countRecords(records))
        }
      } catch (error) {
        throw toPartitionError(error, `${topic}-${partition}`)
      }
    }
    return {
      records,
      highWatermark,
      lastStableOffset,
      logStartOffset: log.logStartOffset,
      ...(readCommitted
        ? { abortedTransactions: await log.abortedTransactions(fetchOffset, fetchOffset +
          Math.max(1, lastOffsetOf(records) + 1 - fetchOffset)) }
        : {}),
    }
  }
}

const EMPTY = Buffer.alloc(0)
/** How often acks=all re-checks the ISR when the purgatory has no room for its waiter. */
const FULL_PURGATORY_POLL_MS = 50
/** acks=all's wait when the caller names none (Kafka's request.timeout.ms default). */
const ACK_ALL_TIMEOUT_DEFAULT_MS = 30_000

/** The last offset of the last whole batch of a read, or -1 when it holds none. */
function lastOffsetOf (records: Buffer): number {
  let last = -1
  let position = 0
  while (position + 61 <= records.length) {
    last = readInt64(records, position) + records.readInt32BE(position + 23)
    position += records.readInt32BE(position + 8) + 12
  }
  return last
}

/** Records in the whole batches of a read, from their headers (no decoding). */
function countRecords (records: Buffer): number {
  let count = 0
  let position = 0
  while (position + 61 <= records.length) {
    count += records.readInt32BE(position + 57)
    position += records.readInt32BE(position + 8) + 12
  }
  return count
}

/**
 * KIP-320's check of the leader epoch a request names (-1 names none; Kafka's
 * Partition.checkCurrentLeaderEpoch): an older one is FENCED_LEADER_EPOCH (the client refreshes
 * its metadata and validates its position), a newer one UNKNOWN_LEADER_EPOCH (this broker has
 * not applied that metadata yet).
 */
function checkCurrentLeaderEpoch (name: string, requested: number, current: number): void {
  if (requested < 0 || requested === current) return
  throw new PartitionError(requested < current ? 'FENCED_LEADER_EPOCH' : 'UNKNOWN_LEADER_EPOCH',
    `${name}: the request names leader epoch ${requested}; the leader's is ${current}`)
}

/** records/validate.ts's checks of a produced batch, refusals as PartitionError. */
async function validate (batch: Buffer, settings: TopicSettings, nowMs: number):
ReturnType<typeof validateProducedBatches> {
  try {
    return await validateProducedBatches(batch, {
      maxMessageBytes: settings.maxMessageBytes,
      nowMs,
      messageTimestampDifferenceMaxMs: settings.messageTimestampDifferenceMaxMs,
    })
  } catch (error) {
    if (error instanceof RecordsError) {
      throw new PartitionError(error.kind, error.message, error.recordIndex)
    }
    throw error
  }
}

/** LogAppendTime: the broker's clock becomes the batch's max timestamp (KIP-32); CRC redone. */
function stampLogAppendTime (batch: Buffer, nowMs: number): void {
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET)
  batch.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, ATTRIBUTES_OFFSET)
  writeInt64(batch, MAX_TIMESTAMP_OFFSET, nowMs)
  writeBatchCrc(batch, 0, batchSizeAt(batch, 0))
}

function toPartitionError (error: unknown, where: string): PartitionError {
  if (error instanceof PartitionError) return error
  const kind = (error as { kind?: unknown }).kind
  if (typeof kind === 'string') return new PartitionError(kind, (error as Error).message)
  return new PartitionError('KAFKA_STORAGE_ERROR',
    `storage error on ${where}: ${(error as Error).message ?? String(error)}`)
}
