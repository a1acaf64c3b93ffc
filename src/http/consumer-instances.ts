/**
 * HTTP consumer instances: each is a real member of its consumer group, joined in-process to
 * the GroupCoordinator with the standard consumer protocol, so it shares partitions with
 * Kafka-protocol members (kafkajs, librdkafka, Java). It heartbeats on a timer, rejoins when a
 * rebalance starts, assigns round robin when it leads, reads its partitions through the same
 * long-poll path as /api/v1/consume, and commits through the coordinator.
 *
 * Limits: at most INSTANCES_MAX instances; an instance unused for
 * `consumer.instance.timeout.ms` leaves its group and is deleted (Confluent's REST Proxy rule).
 */
import { randomUUID } from 'node:crypto'
import type { Broker } from '../broker/broker.js'
import type { GroupCoordinator } from '../group/coordinator.js'
import { ERROR } from '../protocol/errors.js'
import { Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'
import { HttpError } from './errors.js'
import { CONSUME_RECORD_BYTES, consumeRecords, type ConsumedRecord } from './records-service.js'

export const INSTANCES_MAX = 1000
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
  readonly autoOffsetReset: 'earliest' | 'latest'
  memberId = ''
  generationId = -1
  assignment: { topic: string, partition: number }[] = []
  readonly positions = new Map<string, number>()
  lastUsedMs = Date.now()
  #closed = false
  #joining: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  readonly #broker: Broker
  readonly #groups: GroupCoordinator

  constructor (broker: Broker, groups: GroupCoordinator, groupId: string, topics: string[],
    autoOffsetReset: 'earliest' | 'latest', instanceId = `rest-${randomUUID()}`) {
    this.#broker = broker
    this.#groups = groups
    this.groupId = groupId
    this.topics = topics
    this.autoOffsetReset = autoOffsetReset
    this.instanceId = instanceId
  }

  /** Joins (or rejoins) the group and syncs; resolves once this member has an assignment. */
  join (): Promise<void> {
    this.#joining ??= this.#join().finally(() => { this.#joining = undefined })
    return this.#joining
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

  async records (maxWaitMs: number, limit: number): Promise<(ConsumedRecord & { topic: string,
    partition: number })[]> {
    this.lastUsedMs = Date.now()
    if (this.generationId < 0 || this.#joining !== undefined) await this.join()
    const committed = this.#groups.fetchOffsets(this.groupId)
    const result: (ConsumedRecord & { topic: string, partition: number })[] = []
    let bytes = 0 // one CONSUME_RECORD_BYTES budget over all the assigned partitions
    const deadline = Date.now() + maxWaitMs
    for (;;) {
      for (const { topic, partition } of this.assignment) {
        const key = `${topic}\u0000${partition}`
        let position = this.positions.get(key) ?? committed.get(key)?.offset
        if (position === undefined) {
          const log = this.#broker.replicaManager.log(topic, partition)
          position = log === undefined ? 0 : this.autoOffsetReset === 'earliest'
            ? log.logStartOffset
            : this.#broker.replicaManager.highWatermark(log)
        }
        const read = await consumeRecords(this.#broker, topic, partition, position,
          limit - result.length, 0, undefined,
          { maxBytes: CONSUME_RECORD_BYTES - bytes, minOneRecord: result.length === 0 })
        for (const record of read.records) result.push({ topic, partition, ...record })
        bytes += read.bytes
        this.positions.set(key, read.nextOffset)
        if (result.length >= limit || bytes >= CONSUME_RECORD_BYTES) return result
      }
      if (result.length > 0 || Date.now() >= deadline) return result
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

  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    if (this.memberId !== '') {
      await this.#groups.leave(this.groupId, [{ memberId: this.memberId, groupInstanceId: null }])
    }
  }
}

export class ConsumerInstances {
  readonly #instances = new Map<string, ConsumerInstance>()
  readonly #broker: Broker
  readonly #timeoutMs: number
  readonly #sweeper: NodeJS.Timeout

  constructor (broker: Broker, timeoutMs: number) {
    this.#broker = broker
    this.#timeoutMs = timeoutMs
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(timeoutMs / 2, 5000))
    this.#sweeper.unref()
  }

  async create (groupId: string, topics: string[], autoOffsetReset: 'earliest' | 'latest',
    instanceId?: string): Promise<ConsumerInstance> {
    const groups = this.#broker.groups
    if (groups === undefined) throw new HttpError(503, 1, 'the group coordinator is not running')
    if (this.#instances.size >= INSTANCES_MAX) {
      throw new HttpError(429, 1, `at most ${INSTANCES_MAX} HTTP consumer instances`)
    }
    for (const topic of topics) {
      if (this.#broker.image.topic(topic) === undefined) {
        throw new HttpError(404, 1, `topics: topic '${topic}' not found`)
      }
    }
    const instance = new ConsumerInstance(this.#broker, groups, groupId, topics, autoOffsetReset,
      instanceId)
    if (this.#instances.has(`${groupId}/${instance.instanceId}`)) {
      throw new HttpError(409, 3, `consumer instance '${instance.instanceId}' already exists`)
    }
    this.#instances.set(`${groupId}/${instance.instanceId}`, instance)
    await instance.join()
    return instance
  }

  get (groupId: string, instanceId: string): ConsumerInstance {
    const instance = this.#instances.get(`${groupId}/${instanceId}`)
    if (instance === undefined) {
      throw new HttpError(404, 3, `consumer instance '${instanceId}' of group '${groupId}' ` +
        'not found')
    }
    return instance
  }

  async delete (groupId: string, instanceId: string): Promise<void> {
    const instance = this.get(groupId, instanceId)
    this.#instances.delete(`${groupId}/${instanceId}`)
    await instance.close()
  }

  #sweep (): void {
    const now = Date.now()
    for (const [key, instance] of this.#instances) {
      if (now - instance.lastUsedMs > this.#timeoutMs) {
        this.#instances.delete(key)
        void instance.close().catch(() => undefined)
      }
    }
  }

  async closeAll (): Promise<void> {
    clearInterval(this.#sweeper)
    for (const instance of this.#instances.values()) await instance.close().catch(() => undefined)
    this.#instances.clear()
  }
}
