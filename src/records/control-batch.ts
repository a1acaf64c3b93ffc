/**
 * Transaction markers as control batches (KIP-98): a batch with the transactional and control
 * attributes set, the producer's id and epoch, no sequence, and one record whose key is
 * (int16 version 0, int16 type: 0 ABORT, 1 COMMIT) and whose value is (int16 version 0,
 * int32 coordinator epoch), as Kafka's EndTransactionMarker writes it.
 */
import {
  ATTRIBUTES_OFFSET, CONTROL_FLAG_MASK, NO_SEQUENCE, batchSizeAt, writeBatchCrc,
} from './batch-header.js'
import { decodeUncompressedBatch } from './batch.js'
import { buildRecordBatchSync } from './builder.js'

export const CONTROL_TYPE_ABORT = 0
export const CONTROL_TYPE_COMMIT = 1

export interface TxnMarkerInput {
  producerId: number
  producerEpoch: number
  commit: boolean
  coordinatorEpoch: number
  timestampMs: number
}

export function buildControlBatch (marker: TxnMarkerInput): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(marker.commit ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT, 2)
  const value = Buffer.alloc(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(marker.coordinatorEpoch, 2)
  const batch = buildRecordBatchSync([{ key, value, timestamp: marker.timestampMs }], {
    producerId: marker.producerId, producerEpoch: marker.producerEpoch,
    baseSequence: NO_SEQUENCE, transactional: true, timestampMs: marker.timestampMs,
  })
  batch.writeInt16BE(batch.readInt16BE(ATTRIBUTES_OFFSET) | CONTROL_FLAG_MASK, ATTRIBUTES_OFFSET)
  writeBatchCrc(batch, 0, batchSizeAt(batch, 0))
  return batch
}

/** The marker type of a control batch's record key (COMMIT or ABORT), or undefined. */
export function controlTypeOf (key: Buffer | null): number | undefined {
  if (key === null || key.length < 4) return undefined
  return key.readInt16BE(2)
}

/** The coordinator epoch of a control record's value (int16 version, int32 epoch), or -1. */
export function coordinatorEpochOf (value: Buffer | null): number {
  if (value === null || value.length < 6) return -1
  return value.readInt32BE(2)
}

/**
 * The marker of a whole control batch: its type (COMMIT/ABORT) and coordinator epoch, or
 * undefined if the batch is not one this broker can read (compressed, no record, malformed).
 * Synchronous, for replays over batch headers (src/storage/log-loader.ts).
 */
export function readControlMarker (batch: Buffer):
{ type: number | undefined, coordinatorEpoch: number } | undefined {
  try {
    const record = decodeUncompressedBatch(batch)?.records[0]
    if (record === undefined) return undefined
    return { type: controlTypeOf(record.key), coordinatorEpoch: coordinatorEpochOf(record.value) }
  } catch {
    return undefined
  }
}
