/**
 * The offsets store: group records in the compacted internal topic `__consumer_offsets`.
 *
 * Format: each record's key and value are msgpackr maps, mirroring Kafka's key versions
 * (GroupCoordinatorRecordSerde):
 *   offset commit   key {version: 1, group, topic, partition}
 *                   value {offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp}
 *   group metadata  key {version: 2, group}
 *                   value {protocolType, generation, protocol, leader, currentStateTimestamp,
 *                          members: [{memberId, groupInstanceId, clientId, clientHost,
 *                          sessionTimeout, rebalanceTimeout, subscription, assignment}]}
 *   pending txn     key {version: 3, group, producer, topic, partition}
 *   offset          value {producerEpoch, offset, leaderEpoch, metadata, commitTimestamp}
 *   a null value is a tombstone (compaction then drops the key).
 * A group lives on partition abs(String.hashCode(groupId)) % offsets.topic.num.partitions,
 * as Kafka's GroupCoordinatorService.partitionFor.
 *
 * Writes go through the broker's normal partition log (`OffsetsLog`, with acks=-1
 * semantics: the promise resolves once the batch is durable). Records for one partition that
 * arrive while an append is in flight are batched into the next append (group commit), so the
 * order of appends per partition is the order of `append` calls.
 *
 * Failure behaviour: an append that fails rejects every caller whose records were in it; a
 * record that does not decode on replay stops the load with OffsetsLoadError naming the
 * partition and offset. Skipping it would silently lose a commit or a group (and only the
 * broker writes this topic, so such a record means damage, not a client's doing). Kafka's
 * CoordinatorLoaderImpl likewise fails the load on a record it cannot deserialize.
 */
import { Packr } from 'msgpackr'
import type {
  GroupMetadataValue, GroupRecord, MemberValue, OffsetValue, TxnOffsetValue,
} from './group-records.js'

/** The partition log the store writes through (implemented by src/broker/offsets-log.ts). */
export interface OffsetsLog {
  readonly partitionCount: number
  append (partition: number, records: { key: Buffer, value: Buffer | null }[]): Promise<void>
  /** The partition's records in log order; `offset` (when known) is named in load errors. */
  replay (partition: number): AsyncIterable<{ key: Buffer, value: Buffer | null,
    offset?: number }>
}

export class OffsetsLoadError extends Error {
  override name = 'OffsetsLoadError'
}

/** Records per append at most: one batch stays well below message.max.bytes in practice. */
const APPEND_RECORDS_MAX = 10_000
const packr = new Packr({ useRecords: false, mapsAsObjects: true })

/** Java's String.hashCode over UTF-16 code units, which Kafka uses to place a group. */
export function javaStringHash (text: string): number {
  let hash = 0
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0
  return hash
}

/** Kafka's Utils.abs(groupId.hashCode()) % partitions; Utils.abs maps MIN_VALUE to 0. */
export function partitionForGroup (groupId: string, partitionCount: number): number {
  const hash = javaStringHash(groupId)
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % partitionCount
}

export function encodeRecord (record: GroupRecord): { key: Buffer, value: Buffer | null } {
  if (record.kind === 'txn-offset') {
    const value = record.value
    return {
      key: packr.pack({ version: 3, group: record.groupId, producer: record.producerId,
        topic: record.topic, partition: record.partition }),
      value: value === null
        ? null
        : packr.pack({ producerEpoch: value.producerEpoch, offset: value.offset,
          leaderEpoch: value.leaderEpoch, metadata: value.metadata,
          commitTimestamp: value.commitTimestampMs }),
    }
  }
  if (record.kind === 'offset') {
    const value = record.value
    return {
      key: packr.pack({ version: 1, group: record.groupId, topic: record.topic,
        partition: record.partition }),
      value: value === null
        ? null
        : packr.pack({ offset: value.offset, leaderEpoch: value.leaderEpoch,
          metadata: value.metadata, commitTimestamp: value.commitTimestampMs,
          expireTimestamp: value.expireTimestampMs }),
    }
  }
  const value = record.value
  return {
    key: packr.pack({ version: 2, group: record.groupId }),
    value: value === null
      ? null
      : packr.pack({ protocolType: value.protocolType, generation: value.generationId,
        protocol: value.protocolName, leader: value.leaderId,
        currentStateTimestamp: value.currentStateTimestampMs,
        members: value.members.map(member => ({ memberId: member.memberId,
          groupInstanceId: member.groupInstanceId, clientId: member.clientId,
          clientHost: member.clientHost, sessionTimeout: member.sessionTimeoutMs,
          rebalanceTimeout: member.rebalanceTimeoutMs, subscription: member.subscription,
          assignment: member.assignment })) }),
  }
}

type Fields = Record<string, unknown>

function isFields (value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
const isInt = (value: unknown): value is number => Number.isSafeInteger(value)
const isText = (value: unknown): value is string => typeof value === 'string'
const isTextOrNull = (value: unknown): value is string | null => value === null || isText(value)
const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array

function decodeOffsetValue (value: unknown): OffsetValue | undefined {
  if (!isFields(value)) return undefined
  const { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp } = value
  if (!isInt(offset) || !isInt(leaderEpoch) || !isTextOrNull(metadata)) return undefined
  if (!isInt(commitTimestamp) || !(expireTimestamp === null || isInt(expireTimestamp))) {
    return undefined
  }
  return { offset, leaderEpoch, metadata, commitTimestampMs: commitTimestamp,
    expireTimestampMs: expireTimestamp }
}

function decodeTxnOffsetValue (value: unknown): TxnOffsetValue | undefined {
  if (!isFields(value)) return undefined
  const { producerEpoch, offset, leaderEpoch, metadata, commitTimestamp } = value
  if (!isInt(producerEpoch) || !isInt(offset) || !isInt(leaderEpoch)) return undefined
  if (!isTextOrNull(metadata) || !isInt(commitTimestamp)) return undefined
  return { producerEpoch, offset, leaderEpoch, metadata, commitTimestampMs: commitTimestamp }
}

function decodeMember (member: unknown): MemberValue | undefined {
  if (!isFields(member)) return undefined
  const { memberId, groupInstanceId, clientId, clientHost, sessionTimeout, rebalanceTimeout,
    subscription, assignment } = member
  if (!isText(memberId) || !isTextOrNull(groupInstanceId) || !isText(clientId)) return undefined
  if (!isText(clientHost) || !isInt(sessionTimeout) || !isInt(rebalanceTimeout)) return undefined
  if (!isBytes(subscription) || !isBytes(assignment)) return undefined
  return { memberId, groupInstanceId, clientId, clientHost, sessionTimeoutMs: sessionTimeout,
    rebalanceTimeoutMs: rebalanceTimeout, subscription: Buffer.from(subscription),
    assignment: Buffer.from(assignment) }
}

function decodeGroupValue (value: unknown): GroupMetadataValue | undefined {
  if (!isFields(value)) return undefined
  const { protocolType, generation, protocol, leader, currentStateTimestamp, members } = value
  if (!isText(protocolType) || !isInt(generation) || !isTextOrNull(protocol)) return undefined
  if (!isTextOrNull(leader) || !isInt(currentStateTimestamp) || !Array.isArray(members)) {
    return undefined
  }
  const decoded: MemberValue[] = []
  for (const member of members) {
    const one = decodeMember(member)
    if (one === undefined) return undefined
    decoded.push(one)
  }
  return { protocolType, generationId: generation, protocolName: protocol, leaderId: leader,
    currentStateTimestampMs: currentStateTimestamp, members: decoded }
}

function unpack (bytes: Buffer): unknown {
  try {
    return packr.unpack(bytes)
  } catch {
    return undefined
  }
}

/** The record a key/value pair holds, or undefined if it is not one of ours. */
export function decodeRecord (key: Buffer, value: Buffer | null): GroupRecord | undefined {
  const fields = unpack(key)
  if (!isFields(fields) || !isText(fields.group)) return undefined
  const body = value === null ? null : unpack(value)
  if (fields.version === 1 || fields.version === 0) {
    if (!isText(fields.topic) || !isInt(fields.partition)) return undefined
    const offset = body === null ? null : decodeOffsetValue(body)
    if (offset === undefined) return undefined
    return { kind: 'offset', groupId: fields.group, topic: fields.topic,
      partition: fields.partition, value: offset }
  }
  if (fields.version === 3) {
    if (!isInt(fields.producer) || !isText(fields.topic) || !isInt(fields.partition)) {
      return undefined
    }
    const pending = body === null ? null : decodeTxnOffsetValue(body)
    if (pending === undefined) return undefined
    return { kind: 'txn-offset', groupId: fields.group, producerId: fields.producer,
      topic: fields.topic, partition: fields.partition, value: pending }
  }
  if (fields.version === 2) {
    const group = body === null ? null : decodeGroupValue(body)
    if (group === undefined) return undefined
    return { kind: 'group', groupId: fields.group, value: group }
  }
  return undefined
}

interface QueuedAppend {
  records: { key: Buffer, value: Buffer | null }[]
  resolve: () => void
  reject: (error: unknown) => void
}

export class OffsetsStore {
  readonly #log: OffsetsLog
  readonly #queues: QueuedAppend[][]
  readonly #writing: boolean[]

  constructor (log: OffsetsLog) {
    this.#log = log
    this.#queues = Array.from({ length: log.partitionCount }, () => [])
    this.#writing = new Array<boolean>(log.partitionCount).fill(false)
  }

  get partitionCount (): number {
    return this.#log.partitionCount
  }

  partitionFor (groupId: string): number {
    return partitionForGroup(groupId, this.#log.partitionCount)
  }

  /** Appends records durably; resolves once they are, in call order per partition. */
  append (partition: number, records: GroupRecord[]): Promise<void> {
    const queue = this.#queues[partition]
    if (queue === undefined) return Promise.reject(new RangeError(`no partition ${partition}`))
    return new Promise<void>((resolve, reject) => {
      queue.push({ records: records.map(encodeRecord), resolve, reject })
      if (!this.#writing[partition]) void this.#drain(partition, queue)
    })
  }

  async #drain (partition: number, queue: QueuedAppend[]): Promise<void> {
    this.#writing[partition] = true
    while (queue.length > 0) {
      const batch: QueuedAppend[] = []
      let count = 0
      while (queue.length > 0 && (batch.length === 0 ||
        count + (queue[0]?.records.length ?? 0) <= APPEND_RECORDS_MAX)) {
        const next = queue.shift() as QueuedAppend
        count += next.records.length
        batch.push(next)
      }
      try {
        await this.#log.append(partition, batch.flatMap(entry => entry.records))
        for (const entry of batch) entry.resolve()
      } catch (error) {
        for (const entry of batch) entry.reject(error)
      }
    }
    this.#writing[partition] = false
  }

  /** Every record of one partition, in log order; throws OffsetsLoadError at one that does
   * not decode. */
  async * replay (partition: number): AsyncIterable<GroupRecord> {
    for await (const { key, value, offset } of this.#log.replay(partition)) {
      const record = decodeRecord(key, value)
      if (record === undefined) {
        throw new OffsetsLoadError(`__consumer_offsets-${partition}: the record at offset ` +
          `${offset ?? 'unknown'} is not a group or offset record this broker wrote; loading ` +
          'stops rather than lose the commits and groups it may hold')
      }
      yield record
    }
  }
}
