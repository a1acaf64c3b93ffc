/**
 * HTTP consumer instances: each is a real member of its consumer group, joined in-process to
 * the GroupCoordinator with the standard consumer protocol, so it shares partitions with
 * Kafka-protocol members (kafkajs, librdkafka, Java). It heartbeats on a timer, rejoins when a
 * rebalance starts, assigns round robin when it leads, reads its partitions through the same
 * long-poll path as /api/v1/consume, and commits through the coordinator.
 *
 * Limits: at most `http.consumer.instances.max` instances, REST Proxy v2 instances that are
 * created but not yet subscribed (pending) included; an instance, pending or not, unused for
 * `consumer.instance.timeout.ms` leaves its group and is deleted (Confluent's REST Proxy rule).
 *
 * Commits: with auto-commit (the default; REST Proxy v2's `auto.commit.enable`, Kafka's
 * `enable.auto.commit`), each read of records first commits the positions after the records the
 * previous read returned, and so does a DELETE of the instance: a record is committed once the
 * client comes back for more (at-least-once). Without it, only explicit commits store offsets.
 */
import { randomUUID } from 'node:crypto'
import type { Broker } from '../broker/broker.js'
import type { GroupCoordinator } from '../group/coordinator.js'
import { ERROR } from '../protocol/errors.js'
import { Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'
import { assert } from '../util/assert.js'
import { clampTimeoutMs } from '../util/timeout.js'
import type { LeaderRouter } from './leader-router.js'
import { HttpError } from './errors.js'
import {
  CONSUME_RECORD_BYTES, consumeRecords, type ConsumedRecord, type IsolationLevel,
} from './records-service.js'

export const INSTANCES_MAX_CONFIG = 'http.consumer.instances.max'
const SESSION_TIMEOUT_MS = 30_000
const HEARTBEAT_INTERVAL_MS = 1000
/** Names this member offers: kafkajs's default, then librdkafka's and Java's round robin. */
const PROTOCOL_NAMES = ['RoundRobinAssigner', 'roundrobin', 'range']

function encodeSubscription (topics: string[]): Buffer {
  return new Writer().int16(0).arrayOf(false, topics, (w, t) => w.nullableString(t))
    .nullableBytes(null).toBuffer()
}

function decodeSubscription (bytes: Buffer): string[] {
  try {
    const reader = new Reader(bytes)
    reader.int16()
    return reader.arrayOf(false, r => r.string())
  } catch {
    return []
  }
}

function encodeAssignment (owned: Map<string, number[]>): Buffer {
  return new Writer().int16(0).arrayOf(false, [...owned], (w, [topic, partitions]) => {
    w.nullableString(topic).int32ArrayOf(false, partitions)
  }).nullableBytes(null).toBuffer()
}

function decodeAssignment (bytes: Buffer): { topic: string, partition: number }[] {
  try {
    const reader = new Reader(bytes)
    reader.int16()
    return reader.arrayOf(false, r => ({ topic: r.string(), partitions: r.int32ArrayOf(false) }))
      .flatMap(({ topic, partitions }) => partitions.map(partition => ({ topic, partition })))
  } catch {
    return []
  }
}

export class ConsumerInstance {
  readonly groupId: string
  readonly instanceId: string
  readonly topics: string[]
  readonly settings: InstanceSettings
  memberId = ''
  generationId = -1
  assignment: { topic: string, partition: number }[] = []
  readonly positions = new Map<string, number>()
  lastUsedMs = Date.now()
  /** The positions the last auto-commit stored: an auto-commit is due when they differ. */
  #autoCommitted = new Map<string, number>()
  #closed = false
  #joining: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  readonly #broker: Broker
  readonly #router: LeaderRouter
  readonly #groups: GroupCoordinator

  constructor (router: LeaderRouter, groups: GroupCoordinator, groupId: string,
    topics: string[], settings: InstanceSettings, instanceId = `rest-${randomUUID()}`) {
    this.#router = router
    this.#broker = router.broker
    this.#groups = groups
    this.groupId = groupId
    this.topics = topics
    this.settings = settings
    this.instanceId = instanceId
  }

  /**
   * Joins (or rejoins) the group and syncs; resolves once this member has an assignment. A
   * rejoin first auto-commits what was read, as Kafka's consumer does before giving up its
   * partitions in a rebalance.
   */
  join (): Promise<void> {
    this.#joining ??= this.#autoCommit().then(() => this.#join())
      .finally(() => { this.#joining = undefined })
    return this.#joining
  }

  /** Commits the positions read so far when auto-commit is on; a failed one is retried later. */
  async #autoCommit (): Promise<void> {
    if (!this.settings.autoCommit || this.generationId < 0) return
    const due = [...this.positions].some(([key, offset]) => this.#autoCommitted.get(key) !== offset)
    if (!due) return
    const positions = new Map(this.positions)
    const code = await this.commit().catch(() => -1)
    if (code === ERROR.NONE) this.#autoCommitted = positions
  }

  async #join (): Promise<void> {
    for (let attempt = 0; attempt < 10 && !this.#closed; attempt++) {
      const metadata = encodeSubscription(this.topics)
      const joined = await this.#groups.join(this.groupId, {
        memberId: this.memberId, groupInstanceId: null, clientId: this.instanceId,
        clientHost: 'http', sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: SESSION_TIMEOUT_MS, protocolType: 'consumer',
        protocols: PROTOCOL_NAMES.map(name => ({ name, metadata })),
        requireKnownMemberId: true,
      })
      if (joined.errorCode === ERROR.MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId
        continue
      }
      if (joined.errorCode === ERROR.UNKNOWN_MEMBER_ID) {
        this.memberId = ''
        continue
      }
      if (joined.errorCode !== ERROR.NONE) {
        throw new HttpError(500, 2, `joining group ${this.groupId} failed with error ` +
          `${joined.errorCode}`)
      }
      this.memberId = joined.memberId
      this.generationId = joined.generationId
      const assignments = joined.leader === joined.memberId ? this.#assign(joined.members) : []
      const synced = await this.#groups.sync(this.groupId, this.memberId, null,
        this.generationId, assignments)
      if (synced.errorCode === ERROR.REBALANCE_IN_PROGRESS) continue
      if (synced.errorCode !== ERROR.NONE) continue
      this.assignment = decodeAssignment(synced.assignment)
      // A partition this member no longer owns is read from its committed offset next time.
      const owned = new Set(this.assignment.map(tp => `${tp.topic}\u0000${tp.partition}`))
      for (const key of this.positions.keys()) if (!owned.has(key)) this.positions.delete(key)
      this.#startHeartbeats()
      return
    }
  }

  /** Round robin over every member's subscribed partitions, as the leader must. */
  #assign (members: { memberId: string, metadata: Buffer }[]): { memberId: string,
    assignment: Buffer }[] {
    const owned = new Map(members.map(m => [m.memberId, new Map<string, number[]>()]))
    const subscribed = new Map(members.map(m => [m.memberId, decodeSubscription(m.metadata)]))
    const topics = [...new Set([...subscribed.values()].flat())].sort()
    let next = 0
    for (const topic of topics) {
      const partitions = this.#broker.image.topic(topic)?.partitions.length ?? 0
      const eligible = members.filter(m => subscribed.get(m.memberId)?.includes(topic))
      for (let partition = 0; partition < partitions && eligible.length > 0; partition++) {
        const member = eligible[next++ % eligible.length] as { memberId: string }
        const mine = owned.get(member.memberId) as Map<string, number[]>
        mine.set(topic, [...(mine.get(topic) ?? []), partition])
      }
    }
    return [...owned].map(([memberId, topicsOwned]) => ({ memberId,
      assignment: encodeAssignment(topicsOwned) }))
  }

  #startHeartbeats (): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      if (this.#closed || this.#joining !== undefined) return
      const code = this.#groups.heartbeat(this.groupId, this.memberId, null, this.generationId)
      if (code !== ERROR.NONE) void this.join().catch(() => undefined)
    }, HEARTBEAT_INTERVAL_MS)
    this.#timer.unref()
  }

  /**
   * Up to `limit` records from this member's partitions, waiting up to `maxWaitMs` for the
   * first; with auto-commit, first commits what the previous call returned.
   */
  async records (maxWaitMs: number, limit: number, signal?: AbortSignal):
  Promise<(ConsumedRecord & { topic: string, partition: number })[]> {
    this.lastUsedMs = Date.now()
    if (this.generationId < 0 || this.#joining !== undefined) await this.join()
    await this.#autoCommit()
    const committed = this.#groups.fetchOffsets(this.groupId)
    const result: (ConsumedRecord & { topic: string, partition: number })[] = []
    let bytes = 0 // one CONSUME_RECORD_BYTES budget over all the assigned partitions
    const deadline = Date.now() + maxWaitMs
    for (;;) {
      for (const { topic, partition } of this.assignment) {
        const key = `${topic}\u0000${partition}`
        let position = this.positions.get(key) ?? committed.get(key)?.offset
        // "latest" at read_committed is the last stable offset, as Kafka's ListOffsets answers;
        // on the partition's leader, here or on another broker.
        position ??= await this.#router.startOffset(topic, partition,
          this.settings.autoOffsetReset === 'earliest' ? 'earliest' : 'latest',
          this.settings.isolation === 'read_committed')
        const read = await consumeRecords(this.#router, topic, partition, position,
          limit - result.length, 0, undefined,
          { maxBytes: CONSUME_RECORD_BYTES - bytes, minOneRecord: result.length === 0 },
          this.settings.isolation)
        for (const record of read.records) result.push({ topic, partition, ...record })
        bytes += read.bytes
        this.positions.set(key, read.nextOffset)
        if (result.length >= limit || bytes >= CONSUME_RECORD_BYTES) return result
      }
      if (result.length > 0 || Date.now() >= deadline || signal?.aborted === true) return result
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  async commit (offsets?: { topic: string, partition: number, offset: number }[]):
  Promise<number> {
    this.lastUsedMs = Date.now()
    const entries = offsets ?? [...this.positions].map(([key, offset]) => {
      const [topic, partition] = key.split('\u0000') as [string, string]
      return { topic, partition: Number(partition), offset }
    })
    return this.#groups.commitOffsets(this.groupId, this.memberId, null, this.generationId,
      entries.map(e => ({ ...e, leaderEpoch: -1, metadata: null })))
  }

  committed (): { topic: string, partition: number, offset: number }[] {
    const stored = this.#groups.fetchOffsets(this.groupId)
    return this.assignment.map(({ topic, partition }) => ({ topic, partition,
      offset: stored.get(`${topic}\u0000${partition}`)?.offset ?? -1 }))
  }

  /** Leaves the group; `commitFirst` (a client's DELETE) auto-commits what was read. */
  async close (commitFirst = false): Promise<void> {
    if (commitFirst && this.#joining === undefined) await this.#autoCommit()
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    if (this.memberId !== '') {
      await this.#groups.leave(this.groupId, [{ memberId: this.memberId, groupInstanceId: null }])
    }
  }
}

/** What a client chose when it created an instance. */
export interface InstanceSettings {
  autoOffsetReset: 'earliest' | 'latest'
  autoCommit: boolean
  /** Kafka's isolation.level (KIP-98) for every read of this instance. */
  isolation: IsolationLevel
  /** REST Proxy v2's embedded format for records read; the native API always answers JSON. */
  format: 'json' | 'binary'
}

/** A REST Proxy v2 instance created but not yet subscribed: it has no group membership yet. */
export interface PendingInstance {
  readonly pending: true
  readonly groupId: string
  readonly instanceId: string
  readonly settings: InstanceSettings
  lastUsedMs: number
}

export interface InstanceLimits {
  /** consumer.instance.timeout.ms */
  timeoutMs: number
  /** http.consumer.instances.max */
  max: number
}

/** The instances of this HTTP server, by group and name. */
export class ConsumerInstances {
  readonly #instances = new Map<string, ConsumerInstance | PendingInstance>()
  readonly #broker: Broker
  readonly #router: LeaderRouter
  readonly #limits: InstanceLimits
  readonly #sweeper: NodeJS.Timeout

  constructor (router: LeaderRouter, limits: InstanceLimits) {
    assert(Number.isInteger(limits.max) && limits.max >= 0,
      `consumer instance limit ${limits.max} is not a count`)
    this.#router = router
    this.#broker = router.broker
    this.#limits = { timeoutMs: clampTimeoutMs(limits.timeoutMs), max: limits.max }
    // Sweep often enough to honour the timeout, never faster than every 100 ms.
    this.#sweeper = setInterval(() => this.#sweep(),
      Math.max(100, Math.min(this.#limits.timeoutMs / 2, 5000)))
    this.#sweeper.unref()
  }

  /** A group id and a name can hold any character: join them with one neither may contain. */
  static #key (groupId: string, instanceId: string): string {
    return `${groupId}\u0000${instanceId}`
  }

  #checkRoom (groupId: string, instanceId: string): void {
    if (this.#instances.has(ConsumerInstances.#key(groupId, instanceId))) {
      throw new HttpError(409, 3, `consumer instance '${instanceId}' of group '${groupId}' ` +
        'already exists')
    }
    if (this.#instances.size >= this.#limits.max) {
      throw new HttpError(429, 1, `at most ${this.#limits.max} HTTP consumer instances may ` +
        `exist at once (${INSTANCES_MAX_CONFIG}); delete one, or let idle ones expire after ` +
        'consumer.instance.timeout.ms')
    }
  }

  /** A new member of `groupId`, joined (its assignment known) when this resolves. */
  async create (groupId: string, topics: string[], settings: InstanceSettings,
    instanceId?: string): Promise<ConsumerInstance> {
    const groups = this.#broker.groups
    if (groups === undefined) throw new HttpError(503, 1, 'the group coordinator is not running')
    for (const topic of topics) {
      if (this.#broker.image.topic(topic) === undefined) {
        throw new HttpError(404, 1, `body.topics: topic '${topic}' not found`)
      }
    }
    const instance = new ConsumerInstance(this.#router, groups, groupId, topics, settings,
      instanceId)
    this.#checkRoom(groupId, instance.instanceId)
    this.#instances.set(ConsumerInstances.#key(groupId, instance.instanceId), instance)
    try {
      await instance.join()
    } catch (error) {
      this.#instances.delete(ConsumerInstances.#key(groupId, instance.instanceId))
      await instance.close().catch(() => undefined)
      throw error
    }
    return instance
  }

  /** REST Proxy v2's create: a named instance that joins its group when it subscribes. */
  reserve (groupId: string, instanceId: string, settings: InstanceSettings): PendingInstance {
    this.#checkRoom(groupId, instanceId)
    const pending: PendingInstance = { pending: true, groupId, instanceId, settings,
      lastUsedMs: Date.now() }
    this.#instances.set(ConsumerInstances.#key(groupId, instanceId), pending)
    return pending
  }

  /**
   * REST Proxy v2's subscribe: the instance joins with these topics (a new subscription
   * replaces the old one, as in Confluent's proxy).
   */
  async subscribe (groupId: string, instanceId: string, topics: string[]): Promise<void> {
    const current = this.#find(groupId, instanceId)
    const settings = current.settings
    this.#instances.delete(ConsumerInstances.#key(groupId, instanceId))
    if (current instanceof ConsumerInstance) await current.close(true)
    try {
      await this.create(groupId, topics, settings, instanceId)
    } catch (error) {
      // Still there to subscribe again or delete, as before the call.
      if (!this.#instances.has(ConsumerInstances.#key(groupId, instanceId))) {
        this.#instances.set(ConsumerInstances.#key(groupId, instanceId), { pending: true,
          groupId, instanceId, settings, lastUsedMs: Date.now() })
      }
      throw error
    }
  }

  #find (groupId: string, instanceId: string): ConsumerInstance | PendingInstance {
    const instance = this.#instances.get(ConsumerInstances.#key(groupId, instanceId))
    if (instance === undefined) {
      throw new HttpError(404, 3, `consumer instance '${instanceId}' of group '${groupId}' ` +
        'not found')
    }
    instance.lastUsedMs = Date.now()
    return instance
  }

  /** A subscribed instance; a pending one is a 409 saying to subscribe first. */
  get (groupId: string, instanceId: string): ConsumerInstance {
    const instance = this.#find(groupId, instanceId)
    if (instance instanceof ConsumerInstance) return instance
    throw new HttpError(409, 4, `consumer instance '${instanceId}' of group '${groupId}' is ` +
      'not subscribed to any topic: POST its subscription first')
  }

  /** Leaves the group (auto-committing first when on) and forgets the instance. */
  async delete (groupId: string, instanceId: string): Promise<void> {
    const instance = this.#find(groupId, instanceId)
    this.#instances.delete(ConsumerInstances.#key(groupId, instanceId))
    if (instance instanceof ConsumerInstance) await instance.close(true)
  }

  #sweep (): void {
    const now = Date.now()
    for (const [key, instance] of this.#instances) {
      if (now - instance.lastUsedMs > this.#limits.timeoutMs) {
        this.#instances.delete(key)
        if (instance instanceof ConsumerInstance) void instance.close().catch(() => undefined)
      }
    }
  }

  async closeAll (): Promise<void> {
    clearInterval(this.#sweeper)
    for (const instance of this.#instances.values()) {
      if (instance instanceof ConsumerInstance) await instance.close().catch(() => undefined)
    }
    this.#instances.clear()
  }
}
