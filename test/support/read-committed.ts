/**
 * A read_committed reader on our own client, for the transaction tests (bank workload, EOS
 * pipeline): Fetch with isolation_level=1 and aborted batches dropped exactly as Kafka's Java
 * consumer drops them.
 */
import type { KafkaClient } from '../../src/client/client.js'
import { TRANSACTIONAL_FLAG_MASK, isControlBatch } from '../../src/records/batch-header.js'
import { decodeRecordBatch, splitBatches } from '../../src/records/batch.js'
import { CONTROL_TYPE_ABORT, controlTypeOf } from '../../src/records/control-batch.js'

/** A record a read_committed reader sees. */
export interface CommittedRecord { offset: number, value: string }

/**
 * One read_committed Fetch of `partition` from `position`, dropping aborted batches as Kafka's
 * Java consumer does (FetchCollector: every aborted transaction whose first offset is at or
 * below a batch's last offset marks its producer aborted, in first-offset order, until that
 * producer's ABORT marker). Not kafkajs's consumer: kafkajs 2.x (filterAbortedMessages) moves
 * at most one aborted transaction per record into its aborted set, so a fetch that starts
 * inside two overlapping aborted transactions returns one of them. Returns the visible records
 * and the next position.
 */
export async function fetchCommitted (client: KafkaClient, topic: string, partition: number,
  position: number): Promise<{ records: CommittedRecord[], next: number }> {
  const fetched = await client.fetch(topic, partition, position,
    { isolationLevel: 1, maxWaitMs: 50 })
  const aborted = [...fetched.abortedTransactions ?? []]
    .sort((a, b) => a.firstOffset - b.firstOffset)
  const abortedProducers = new Set<number>()
  const records = fetched.records ?? Buffer.alloc(0)
  const visible: CommittedRecord[] = []
  let next = position
  for (const { position: at, size } of splitBatches(records)) {
    const batch = await decodeRecordBatch(records.subarray(at, at + size))
    const { header } = batch
    const lastOffset = header.baseOffset + header.lastOffsetDelta
    while (aborted.length > 0 && (aborted[0]?.firstOffset ?? Infinity) <= lastOffset) {
      abortedProducers.add(aborted.shift()?.producerId ?? -1)
    }
    if (lastOffset < next) continue
    next = lastOffset + 1
    if (isControlBatch(header.attributes)) {
      if (controlTypeOf(batch.records[0]?.key ?? null) === CONTROL_TYPE_ABORT) {
        abortedProducers.delete(header.producerId)
      }
      continue
    }
    const transactional = (header.attributes & TRANSACTIONAL_FLAG_MASK) !== 0
    if (transactional && abortedProducers.has(header.producerId)) continue
    for (const record of batch.records) {
      if (record.offset < position) continue
      visible.push({ offset: record.offset, value: record.value?.toString() ?? '' })
    }
  }
  return { records: visible, next }
}

/**
 * For a failure report: every batch of `partition` from `from` as read_uncommitted, one line
 * each (offsets, producer id, epoch and base sequence, transactional or control with its
 * type, and the values when `match` accepts one), with the partition's high watermark and
 * last stable offset.
 */
export async function describeRawLog (client: KafkaClient, topic: string, partition: number,
  match: (value: string) => boolean, from = 0): Promise<string[]> {
  const lines: string[] = []
  let position = from
  for (let round = 0; round < 1000; round++) {
    const fetched = await client.fetch(topic, partition, position, { maxWaitMs: 0 })
    if (round === 0) {
      lines.push(`${topic}-${partition}: hw ${fetched.highWatermark} lso ` +
        `${fetched.lastStableOffset}`)
    }
    const records = fetched.records ?? Buffer.alloc(0)
    let advanced = false
    for (const { position: at, size } of splitBatches(records)) {
      const batch = await decodeRecordBatch(records.subarray(at, at + size))
      const { header } = batch
      const lastOffset = header.baseOffset + header.lastOffsetDelta
      if (lastOffset < position) continue
      position = lastOffset + 1
      advanced = true
      const control = isControlBatch(header.attributes)
      const values = batch.records.map(record => record.value?.toString() ?? '')
      const kind = control
        ? `control ${controlTypeOf(batch.records[0]?.key ?? null) === CONTROL_TYPE_ABORT
          ? 'ABORT' : 'COMMIT'}`
        : (header.attributes & TRANSACTIONAL_FLAG_MASK) !== 0 ? 'txn' : 'plain'
      if (control || values.some(match)) {
        lines.push(`  ${header.baseOffset}..${lastOffset} pid ${header.producerId} epoch ` +
          `${header.producerEpoch} seq ${header.baseSequence} ${kind}` +
          `${control ? '' : ` ${values.join(' ')}`}`)
      }
    }
    if (!advanced) break
  }
  return lines
}
