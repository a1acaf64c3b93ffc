/**
 * The records of `__transaction_state`: one key per transactional id (Kafka's
 * TransactionLogKey v0 {transactional_id}), its latest metadata as the value (Kafka's
 * TransactionLogValue: producer id and epoch, timeout, state, partitions, timestamps, plus the
 * offsets staged by TxnOffsetCommit, which Kafka keeps in `__consumer_offsets` instead), and a
 * null value (tombstone) once the id expired. Compaction keeps the last value per key, so a
 * replay of the partition rebuilds every id's state. Encoded with msgpackr maps like the
 * offsets store's records.
 */
import { Packr } from 'msgpackr'
import type { TopicPartition, TxnMetadata, TxnOffset, TxnStateName } from './txn-state.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })
const STATES: ReadonlySet<string> = new Set(['Empty', 'Ongoing', 'PrepareCommit',
  'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead'])

export function encodeTxnRecord (transactionalId: string, value: TxnMetadata | null):
{ key: Buffer, value: Buffer | null } {
  return {
    key: packr.pack({ version: 0, txn: transactionalId }),
    value: value === null ? null : packr.pack({
      producerId: value.producerId, producerEpoch: value.producerEpoch,
      timeoutMs: value.timeoutMs, state: value.state,
      partitions: value.partitions.map(tp => [tp.topic, tp.partition]),
      offsets: value.offsets.map(o => [o.groupId, o.topic, o.partition, o.offset,
        o.leaderEpoch, o.metadata]),
      txnStartMs: value.txnStartMs, lastUpdateMs: value.lastUpdateMs,
    }),
  }
}

const isInt = (value: unknown): value is number => Number.isSafeInteger(value)
const isText = (value: unknown): value is string => typeof value === 'string'

function unpack (bytes: Buffer): unknown {
  try {
    return packr.unpack(bytes)
  } catch {
    return undefined
  }
}

function decodePartition (entry: unknown): TopicPartition | undefined {
  if (!Array.isArray(entry) || !isText(entry[0]) || !isInt(entry[1])) return undefined
  return { topic: entry[0], partition: entry[1] }
}

function decodeOffset (entry: unknown): TxnOffset | undefined {
  if (!Array.isArray(entry) || entry.length !== 6) return undefined
  const [groupId, topic, partition, offset, leaderEpoch, metadata] = entry as unknown[]
  if (!isText(groupId) || !isText(topic) || !isInt(partition) || !isInt(offset)) return undefined
  if (!isInt(leaderEpoch) || !(metadata === null || isText(metadata))) return undefined
  return { groupId, topic, partition, offset, leaderEpoch, metadata }
}

function decodeAll<T> (list: unknown, decode: (entry: unknown) => T | undefined):
T[] | undefined {
  if (!Array.isArray(list)) return undefined
  const decoded: T[] = []
  for (const entry of list) {
    const one = decode(entry)
    if (one === undefined) return undefined
    decoded.push(one)
  }
  return decoded
}

function decodeValue (body: unknown): TxnMetadata | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const v = body as Record<string, unknown>
  if (!isInt(v.producerId) || !isInt(v.producerEpoch) || !isInt(v.timeoutMs)) return undefined
  if (!isText(v.state) || !STATES.has(v.state)) return undefined
  if (!isInt(v.txnStartMs) || !isInt(v.lastUpdateMs)) return undefined
  const partitions = decodeAll(v.partitions, decodePartition)
  const offsets = decodeAll(v.offsets, decodeOffset)
  if (partitions === undefined || offsets === undefined) return undefined
  return { producerId: v.producerId, producerEpoch: v.producerEpoch, timeoutMs: v.timeoutMs,
    state: v.state as TxnStateName, partitions, offsets, txnStartMs: v.txnStartMs,
    lastUpdateMs: v.lastUpdateMs }
}

/** The id and value a record holds, or undefined if it is not one this broker wrote. */
export function decodeTxnRecord (key: Buffer, value: Buffer | null):
{ transactionalId: string, value: TxnMetadata | null } | undefined {
  const fields = unpack(key) as Record<string, unknown> | undefined
  if (typeof fields !== 'object' || fields === null || fields.version !== 0 ||
    !isText(fields.txn)) return undefined
  if (value === null) return { transactionalId: fields.txn, value: null }
  const decoded = decodeValue(unpack(value))
  return decoded === undefined ? undefined : { transactionalId: fields.txn, value: decoded }
}
