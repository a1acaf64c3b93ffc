/**
 * Follower fetchers (Kafka's ReplicaFetcherManager / ReplicaFetcherThread): one fetch loop per
 * source broker, for every partition this broker follows from that leader (Kafka's
 * num.replica.fetchers = 1), over one lean-client connection to the leader's PLAINTEXT
 * endpoint.
 *
 * A round: one Fetch (the newest version both sides serve; replica_id / replica_state = this
 * node) of every partition not backing off, each from its log end offset with its last fetched
 * epoch (KIP-320) and the leader epoch it follows (current_leader_epoch, so a stale leader or
 * follower is fenced). Then, per partition:
 * - records: `appendAsFollower`, which resolves once they are durable, so the next fetch, the
 *   only thing that reports an offset to the leader, reports durable offsets only (the
 *   replication issue's power-loss rule); then the follower's high watermark becomes
 *   min(leader's HW, local acknowledged end);
 * - diverging_epoch: truncate to where the logs diverge (KIP-320, Kafka's
 *   AbstractFetcherThread.truncateOnFetchResponse), then fetch again;
 * - OFFSET_OUT_OF_RANGE below the leader's log start: start the log over there
 *   (truncateFullyAndStartAt); otherwise truncate to the leader's high watermark;
 * - any other error (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH: the
 *   leader or this broker has not seen the newest metadata yet): the partition backs off for
 *   `replica.fetch.backoff.ms`, or until the metadata assigns it again.
 * A connection failure backs the whole loop off, doubling up to REPLICA_FETCH_BACKOFF_MAX_MS.
 *
 * Role changes: `assign` and `remove` are called by the replica manager as metadata arrives;
 * `remove` waits for the partition's response being applied, if any, so a partition that
 * becomes leader never sees a follower append after it took over. Every wait is bounded (the
 * fetch's max_wait_ms plus a request timeout; the backoffs), and `close` stops every loop.
 */
import type { Clock, TimerHandle } from '../io/clock.js'
import { KafkaConnection } from '../client/connection.js'
import {
  Fetch, NO_DIVERGING_EPOCH, type FetchRequest, type FetchResponse,
} from '../protocol/apis/fetch.js'
import { ERROR, errorNameOf } from '../protocol/errors.js'
import type { ByteRateThrottle } from './byte-rate-throttle.js'
import { truncationOffset } from './divergence.js'
import type { ReplicaLog } from './replica-log.js'
import { partitionKey } from '../util/partition-key.js'

/** Longest pause of a source fetcher after repeated connection failures. */
export const REPLICA_FETCH_BACKOFF_MAX_MS = 10_000
/** Beyond max_wait_ms, how long a follower fetch may take (Kafka's replica.socket.timeout.ms). */
const REPLICA_SOCKET_TIMEOUT_MS = 30_000
/** Kafka's socket.connection.setup.timeout.ms. */
const CONNECT_TIMEOUT_MS = 10_000
/** How long closing waits for a loop stuck in a connection attempt. */
const CLOSE_WAIT_MS = 1_000
/** From this Fetch version the replica id travels in replica_state (KIP-903). */
const FETCH_VERSION_MIN_WITH_REPLICA_STATE = 15

export interface ReplicaFetcherConfig {
  waitMaxMs: number
  maxBytes: number
  responseMaxBytes: number
  backoffMs: number
}

export interface ReplicaFetcherOptions {
  nodeId: number
  clock: Clock
  config: ReplicaFetcherConfig
  /** The leader's PLAINTEXT endpoint, from the metadata image. */
  endpointOf (brokerId: number): { host: string, port: number } | undefined
  /** The local log of a partition this broker hosts. */
  logOf (topic: string, partition: number): ReplicaLog | undefined
  /** The topic's id (16 bytes), for Fetch v13+. */
  topicIdOf (topic: string): Buffer | undefined
  /**
   * Whether this broker may fetch as a replica now: in a cluster, only while its registration
   * holds the node id. A second process started with a live broker's node.id opens its logs
   * before its registration is refused; it must not fetch meanwhile and so report the real
   * replica's progress wrongly to the leaders (Kafka's broker epoch in Fetch, KIP-903, guards
   * the same). Unset: always.
   */
  mayFetch?: () => boolean
  /** follower.replication.throttled.rate: bounds the bytes this broker fetches per second. */
  throttle?: ByteRateThrottle
  /** After a follower's log or high watermark moved (metrics, waiters). */
  onProgress?: (topic: string, partition: number) => void
  logger: { info (message: string): void, warn (message: string): void }
  connect?: (host: string, port: number) => Promise<KafkaConnection>
}

interface FollowedPartition {
  topic: string
  partition: number
  leaderEpoch: number
  /** Monotonic time before which this partition is not fetched (after an error). */
  delayedUntilMs: number
  /** The offset the fetch in flight asked from (the log end offset when it was sent). */
  fetchOffset?: number
}


/** How often a fetcher that may not fetch yet (`mayFetch`) asks again. */
const MAY_FETCH_POLL_MS = 50

/** Every source fetcher of this broker, by leader id. */
export class ReplicaFetcherManager {
  readonly #options: ReplicaFetcherOptions
  readonly #fetchers = new Map<number, SourceFetcher>()
  /** partition key → the leader it is fetched from. */
  readonly #sourceOf = new Map<string, number>()

  constructor (options: ReplicaFetcherOptions) {
    this.#options = options
  }

  /** Follows `leaderId` for this partition in `leaderEpoch` (moving it from another leader). */
  async assign (topic: string, partition: number, leaderId: number,
    leaderEpoch: number): Promise<void> {
    const key = partitionKey(topic, partition)
    const current = this.#sourceOf.get(key)
    if (current !== undefined && current !== leaderId) await this.remove(topic, partition)
    let fetcher = this.#fetchers.get(leaderId)
    if (fetcher === undefined) {
      fetcher = new SourceFetcher(leaderId, this.#options)
      this.#fetchers.set(leaderId, fetcher)
      fetcher.start()
    }
    fetcher.add({ topic, partition, leaderEpoch, delayedUntilMs: 0 })
    this.#sourceOf.set(key, leaderId)
  }

  /** Stops following the partition; resolves once no response of it is being applied. */
  async remove (topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition)
    const leaderId = this.#sourceOf.get(key)
    if (leaderId === undefined) return
    this.#sourceOf.delete(key)
    const fetcher = this.#fetchers.get(leaderId)
    if (fetcher === undefined) return
    await fetcher.remove(key)
    if (fetcher.size === 0) {
      this.#fetchers.delete(leaderId)
      await fetcher.close()
    }
  }

  async close (): Promise<void> {
    const fetchers = [...this.#fetchers.values()]
    this.#fetchers.clear()
    this.#sourceOf.clear()
    await Promise.all(fetchers.map(fetcher => fetcher.close()))
  }
}

/** One fetch loop to one leader. */
class SourceFetcher {
  readonly #leaderId: number
  readonly #options: ReplicaFetcherOptions
  readonly #partitions = new Map<string, FollowedPartition>()
  #connection: KafkaConnection | undefined
  #stopped = false
  #loop: Promise<void> | undefined
  /** The response being applied to the logs, if any (remove waits for it). */
  #applying: Promise<void> | undefined
  #wake: (() => void) | undefined
  #failures = 0

  constructor (leaderId: number, options: ReplicaFetcherOptions) {
    this.#leaderId = leaderId
    this.#options = options
  }

  get size (): number {
    return this.#partitions.size
  }

  start (): void {
    this.#loop = this.#run()
  }

  add (partition: FollowedPartition): void {
    this.#partitions.set(partitionKey(partition.topic, partition.partition), partition)
    this.#wake?.()
  }

  async remove (key: string): Promise<void> {
    this.#partitions.delete(key)
    await this.#applying
  }

  /**
   * Stops the loop: its sleep and its fetch end at once; an append under way is awaited. A
   * connection attempt cannot be cut short, so the wait for the loop is bounded.
   */
  async close (): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    this.#connection?.close()
    await this.#applying
    let timer: TimerHandle | undefined
    await Promise.race([this.#loop, new Promise<void>(resolve => {
      timer = this.#options.clock.setTimer(CLOSE_WAIT_MS, resolve)
    })])
    timer?.cancel()
  }

  async #run (): Promise<void> {
    while (!this.#stopped) {
      try {
        const due = this.#duePartitions()
        if (due.length === 0) {
          await this.#sleep(this.#nextDueInMs())
          continue
        }
        if (this.#options.mayFetch?.() === false) {
          // Polled briefly: a registration that lands starts fetching at once.
          await this.#sleep(Math.min(this.#options.config.backoffMs, MAY_FETCH_POLL_MS))
          continue
        }
        const throttleDelayMs = this.#throttleDelayMs()
        if (throttleDelayMs > 0) {
          await this.#sleep(throttleDelayMs)
          continue
        }
        const connection = await this.#connect()
        const { request, version, asked, topicNames } = this.#request(connection, due)
        if (request.topics.length === 0) {
          // Every due partition's log is gone (a deletion under way): nothing to ask for.
          for (const partition of due) this.#delay(partition)
          continue
        }
        const response = await connection.send(Fetch, request, {
          version, timeoutMs: this.#options.config.waitMaxMs + REPLICA_SOCKET_TIMEOUT_MS,
        })
        this.#failures = 0
        this.#recordThrottled(response)
        this.#applying = this.#apply(response, version, asked, topicNames)
        await this.#applying
      } catch (error) {
        if (this.#stopped) break
        this.#connection?.close()
        this.#connection = undefined
        this.#failures++
        const backoffMs = Math.min(REPLICA_FETCH_BACKOFF_MAX_MS,
          this.#options.config.backoffMs * 2 ** Math.min(this.#failures - 1, 10))
        this.#options.logger.warn(`replica fetcher to broker ${this.#leaderId}: ` +
          `${(error as Error).message}; retrying in ${backoffMs} ms`)
        await this.#sleep(backoffMs)
      } finally {
        this.#applying = undefined
      }
    }
    this.#connection?.close()
  }

  /** How long follower.replication.throttled.rate holds the next fetch back (0: not). */
  #throttleDelayMs (): number {
    const throttle = this.#options.throttle
    if (throttle === undefined) return 0
    const nowMs = this.#options.clock.monotonicMs()
    return throttle.available(nowMs) > 0 ? 0 : Math.max(10, throttle.delayMsFor(1, nowMs))
  }

  #recordThrottled (response: FetchResponse): void {
    const throttle = this.#options.throttle
    if (throttle === undefined) return
    let bytes = 0
    for (const topic of response.responses) {
      for (const partition of topic.partitions) bytes += partition.records?.length ?? 0
    }
    throttle.record(bytes, this.#options.clock.monotonicMs())
  }

  #duePartitions (): FollowedPartition[] {
    const nowMs = this.#options.clock.monotonicMs()
    return [...this.#partitions.values()].filter(partition => partition.delayedUntilMs <= nowMs)
  }

  #nextDueInMs (): number {
    const nowMs = this.#options.clock.monotonicMs()
    let next = this.#options.config.backoffMs
    for (const partition of this.#partitions.values()) {
      next = Math.min(next, Math.max(0, partition.delayedUntilMs - nowMs))
    }
    return Math.max(1, next)
  }

  /** Waits `delayMs`, or less when a partition is added or the fetcher closes. */
  #sleep (delayMs: number): Promise<void> {
    return new Promise(resolve => {
      let timer: TimerHandle | undefined
      const done = (): void => {
        timer?.cancel()
        this.#wake = undefined
        resolve()
      }
      this.#wake = done
      timer = this.#options.clock.setTimer(delayMs, done)
    })
  }

  async #connect (): Promise<KafkaConnection> {
    if (this.#connection !== undefined && !this.#connection.closed) return this.#connection
    const endpoint = this.#options.endpointOf(this.#leaderId)
    if (endpoint === undefined) {
      throw new Error(`broker ${this.#leaderId} has no registered endpoint`)
    }
    const connect = this.#options.connect ?? ((host: string, port: number) =>
      KafkaConnection.connect(host, port, { clientId: `replica-${this.#options.nodeId}`,
        requestTimeoutMs: REPLICA_SOCKET_TIMEOUT_MS, connectTimeoutMs: CONNECT_TIMEOUT_MS,
        inflightMax: 1 }))
    const connection = await connect(endpoint.host, endpoint.port)
    if (this.#stopped) {
      connection.close()
      throw new Error('the fetcher stopped')
    }
    this.#connection = connection
    return connection
  }

  #request (connection: KafkaConnection, due: FollowedPartition[]):
  { request: FetchRequest, version: number, asked: Map<string, FollowedPartition>,
    topicNames: Map<string, string> } {
    const served = connection.brokerVersions(Fetch.key)
    if (served === undefined) throw new Error(`broker ${this.#leaderId} does not serve Fetch`)
    const version = Math.min(served.max, Fetch.maxVersion)
    const config = this.#options.config
    const byTopic = new Map<string, FetchRequest['topics'][number]>()
    const asked = new Map<string, FollowedPartition>()
    /** Topic names by id (hex), to read a v13+ response that names topics by id only. */
    const topicNames = new Map<string, string>()
    for (const followed of due) {
      const log = this.#options.logOf(followed.topic, followed.partition)
      if (log === undefined) continue
      asked.set(partitionKey(followed.topic, followed.partition), followed)
      let topic = byTopic.get(followed.topic)
      if (topic === undefined) {
        topic = { topic: followed.topic, topicId: this.#options.topicIdOf(followed.topic) ??
          Buffer.alloc(16), partitions: [] }
        byTopic.set(followed.topic, topic)
        topicNames.set(topic.topicId.toString('hex'), followed.topic)
      }
      // appendAsFollower resolved only once durable, so the log end offset is durable here.
      followed.fetchOffset = log.logEndOffset
      topic.partitions.push({
        partition: followed.partition, currentLeaderEpoch: followed.leaderEpoch,
        fetchOffset: log.logEndOffset, lastFetchedEpoch: log.latestEpoch,
        logStartOffset: log.logStartOffset, partitionMaxBytes: config.maxBytes,
      })
    }
    const nodeId = this.#options.nodeId
    const throttled = this.#options.throttle?.available(this.#options.clock.monotonicMs())
    const allowed = Math.min(config.responseMaxBytes, throttled ?? config.responseMaxBytes)
    return {
      version,
      asked,
      topicNames,
      request: {
        replicaId: version < FETCH_VERSION_MIN_WITH_REPLICA_STATE ? nodeId : -1,
        replicaState: { replicaId: nodeId, replicaEpoch: -1 },
        maxWaitMs: config.waitMaxMs, minBytes: 1, maxBytes: allowed,
        isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [...byTopic.values()], forgottenTopicsData: [], rackId: '',
      },
    }
  }

  async #apply (response: FetchResponse, version: number,
    asked: Map<string, FollowedPartition>, topicNames: Map<string, string>): Promise<void> {
    if (response.errorCode !== ERROR.NONE) {
      throw new Error(`Fetch failed: ${errorNameOf(response.errorCode)}`)
    }
    for (const topicResponse of response.responses) {
      const topic = version >= 13
        ? topicNames.get(topicResponse.topicId?.toString('hex') ?? '')
        : topicResponse.topic
      if (topic === undefined) continue
      for (const partitionResponse of topicResponse.partitions) {
        const key = partitionKey(topic, partitionResponse.partitionIndex)
        const followed = asked.get(key)
        const log = this.#options.logOf(topic, partitionResponse.partitionIndex)
        // Removed or assigned again (a role change) while the fetch was out: its answer is
        // no longer ours.
        if (followed === undefined || this.#partitions.get(key) !== followed ||
          log === undefined) continue
        try {
          await this.#applyPartition(followed, log, partitionResponse)
        } catch (error) {
          this.#options.logger.warn(`${topic}-${followed.partition}: follower fetch from ` +
            `broker ${this.#leaderId} failed: ${(error as Error).message}`)
          this.#delay(followed)
        }
      }
    }
  }

  #delay (followed: FollowedPartition): void {
    followed.delayedUntilMs = this.#options.clock.monotonicMs() + this.#options.config.backoffMs
  }

  async #applyPartition (followed: FollowedPartition, log: ReplicaLog,
    response: FetchResponse['responses'][number]['partitions'][number]): Promise<void> {
    const name = `${followed.topic}-${followed.partition}`
    if (response.errorCode === ERROR.OFFSET_OUT_OF_RANGE) {
      await this.#outOfRange(log, response.logStartOffset, response.highWatermark, name)
      return
    }
    if (response.errorCode !== ERROR.NONE) {
      // The leader (or this broker) has not seen the newest metadata yet, or the partition
      // moved: wait for a backoff or the next assignment.
      this.#delay(followed)
      return
    }
    const diverging = response.divergingEpoch ?? NO_DIVERGING_EPOCH
    if (diverging.epoch !== NO_DIVERGING_EPOCH.epoch ||
      diverging.endOffset !== NO_DIVERGING_EPOCH.endOffset) {
      await this.#truncateOnDivergence(log, diverging, name)
      return
    }
    // appendAsFollower takes the whole batches and leaves a read's partial last one.
    if (response.records !== null && response.records.length > 0) {
      await log.appendAsFollower(response.records, { fetchOffset: followed.fetchOffset })
    }
    // Kafka's follower high watermark: min(leader's HW, local end); never lowered here.
    log.advanceHighWatermark(Math.min(response.highWatermark, log.acknowledgedEndOffset))
    if (response.logStartOffset > log.logStartOffset &&
      response.logStartOffset <= log.highWatermark) {
      // The leader's retention or DeleteRecords moved its start (Kafka's
      // maybeIncrementLogStartOffset on the follower).
      await log.deleteSegmentsBefore(response.logStartOffset)
    }
    this.#options.onProgress?.(followed.topic, followed.partition)
  }

  /**
   * KIP-320 (Kafka's AbstractFetcherThread.getOffsetTruncationState): the leader's log ends
   * epoch `diverging.epoch` at `diverging.endOffset`; this log keeps what both agree on: up to
   * the smaller of that and its own end of that epoch. If the epochs still differ, the next
   * fetch (with the new last epoch) narrows it down further.
   */
  async #truncateOnDivergence (log: ReplicaLog,
    diverging: { epoch: number, endOffset: number }, name: string): Promise<void> {
    const local = diverging.epoch < 0 ? undefined : log.endOffsetForEpoch(diverging.epoch)
    const offset = truncationOffset({ leaderEpoch: diverging.epoch,
      endOffset: diverging.endOffset }, local, log.logEndOffset, log.highWatermark)
    if (offset < log.highWatermark) {
      // Committed records are on the leader; a cut below the HW means an unclean election.
      this.#options.logger.warn(`${name}: truncating below the high watermark ` +
        `${log.highWatermark} to ${offset} (diverging epoch ${diverging.epoch})`)
    }
    this.#options.logger.info(`${name}: truncating to ${offset}: the log diverges from ` +
      `broker ${this.#leaderId}'s at epoch ${diverging.epoch} (end offset ${diverging.endOffset})`)
    await log.truncateTo(offset)
  }

  async #outOfRange (log: ReplicaLog, leaderStartOffset: number, leaderHighWatermark: number,
    name: string): Promise<void> {
    if (leaderStartOffset >= 0 && log.logEndOffset < leaderStartOffset) {
      // Kafka's ReplicaFetcherThread: the leader no longer has what we would fetch next.
      this.#options.logger.info(`${name}: the leader's log starts at ${leaderStartOffset}, ` +
        `past this log's end ${log.logEndOffset}: starting over there`)
      await log.truncateFullyAndStartAt(leaderStartOffset)
      return
    }
    if (leaderHighWatermark >= 0 && leaderHighWatermark < log.logEndOffset) {
      await log.truncateTo(Math.max(leaderHighWatermark, log.highWatermark))
    }
  }
}
