/**
 * The 61-byte header of a RecordBatch v2 (magic 2), as Kafka's DefaultRecordBatch defines it.
 *
 *   offset  field                 type    notes
 *   0       baseOffset            int64   stamped by the broker (outside the CRC)
 *   8       batchLength           int32   bytes after this field: total size - 12
 *   12      partitionLeaderEpoch  int32   stamped by the broker (outside the CRC)
 *   16      magic                 int8    2
 *   17      crc                   uint32  CRC-32C over bytes 21..end
 *   21      attributes            int16   bits 0-2 codec, 3 timestamp type, 4 transactional,
 *                                         5 control, 6 delete horizon
 *   23      lastOffsetDelta       int32
 *   27      baseTimestamp         int64
 *   35      maxTimestamp          int64
 *   43      producerId            int64
 *   51      producerEpoch         int16
 *   53      baseSequence          int32
 *   57      recordsCount          int32
 *   61      records               (compressed as one block when the codec is not none)
 *
 * These functions read and write fields of a batch that sits at `position` in a larger buffer,
 * so the storage engine can walk a segment without copying. They only check bounds; the full
 * validation of a batch from a client lives in `validate.ts`.
 */
import { crc32c } from './crc32c.js'

export const BASE_OFFSET_OFFSET = 0
export const BATCH_LENGTH_OFFSET = 8
export const PARTITION_LEADER_EPOCH_OFFSET = 12
export const MAGIC_OFFSET = 16
export const CRC_OFFSET = 17
export const ATTRIBUTES_OFFSET = 21
export const LAST_OFFSET_DELTA_OFFSET = 23
export const BASE_TIMESTAMP_OFFSET = 27
export const MAX_TIMESTAMP_OFFSET = 35
export const PRODUCER_ID_OFFSET = 43
export const PRODUCER_EPOCH_OFFSET = 51
export const BASE_SEQUENCE_OFFSET = 53
export const RECORDS_COUNT_OFFSET = 57
export const RECORDS_OFFSET = 61

/** Bytes of a batch header, and the smallest possible batch. */
export const BATCH_HEADER_BYTES = 61
/** The `baseOffset` and `batchLength` fields that precede what `batchLength` counts. */
export const LOG_OVERHEAD_BYTES = 12
export const CURRENT_MAGIC = 2

export const COMPRESSION_CODEC_MASK = 0x07
export const TIMESTAMP_TYPE_MASK = 0x08
export const TRANSACTIONAL_FLAG_MASK = 0x10
export const CONTROL_FLAG_MASK = 0x20
export const DELETE_HORIZON_FLAG_MASK = 0x40

export const NO_PRODUCER_ID = -1
export const NO_PRODUCER_EPOCH = -1
export const NO_SEQUENCE = -1
export const NO_PARTITION_LEADER_EPOCH = -1
export const NO_TIMESTAMP = -1

export enum CompressionCodec {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

/** The decoded header of one batch; offsets are JS numbers (int64 checked to be safe). */
export interface BatchHeader {
  baseOffset: number
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordsCount: number
}

/**
 * Reads an int64 as a JS number. Offsets, timestamps and producer ids beyond 2^53 do not occur
 * in practice (Kafka itself would need 285 years at a billion records a second); such a value is
 * reported as NaN so the validator rejects the batch instead of silently rounding it.
 */
export function readInt64 (buffer: Buffer, position: number): number {
  const high = buffer.readInt32BE(position)
  const low = buffer.readUInt32BE(position + 4)
  // 2^53 = 2^21 * 2^32: a high word outside [-2^21, 2^21) cannot be represented exactly.
  if (high >= 0x200000 || high < -0x200000) return Number.NaN
  return high * 0x100000000 + low
}

export function writeInt64 (buffer: Buffer, position: number, value: number): void {
  const high = Math.floor(value / 0x100000000)
  buffer.writeInt32BE(high, position)
  buffer.writeUInt32BE(value - high * 0x100000000, position + 4)
}

/** Total bytes of the batch at `position` (batchLength + 12), without any check. */
export function batchSizeAt (buffer: Buffer, position: number): number {
  return buffer.readInt32BE(position + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES
}

export function readBatchHeader (buffer: Buffer, position = 0): BatchHeader {
  return {
    baseOffset: readInt64(buffer, position + BASE_OFFSET_OFFSET),
    batchLength: buffer.readInt32BE(position + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buffer.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buffer.readInt8(position + MAGIC_OFFSET),
    crc: buffer.readUInt32BE(position + CRC_OFFSET),
    attributes: buffer.readInt16BE(position + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buffer.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buffer, position + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buffer, position + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buffer, position + PRODUCER_ID_OFFSET),
    producerEpoch: buffer.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: buffer.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    recordsCount: buffer.readInt32BE(position + RECORDS_COUNT_OFFSET),
  }
}

/** The CRC-32C of the batch of `size` bytes at `position`, over attributes..end. */
export function computeBatchCrc (buffer: Buffer, position: number, size: number): number {
  return crc32c(buffer.subarray(position + ATTRIBUTES_OFFSET, position + size))
}

/** True when the stored CRC matches the bytes of the batch of `size` bytes at `position`. */
export function batchCrcMatches (buffer: Buffer, position: number, size: number): boolean {
  return buffer.readUInt32BE(position + CRC_OFFSET) === computeBatchCrc(buffer, position, size)
}

/** Recomputes and stores the CRC after a field covered by it changed (e.g. maxTimestamp). */
export function writeBatchCrc (buffer: Buffer, position: number, size: number): void {
  buffer.writeUInt32BE(computeBatchCrc(buffer, position, size), position + CRC_OFFSET)
}

export function compressionCodecOf (attributes: number): number {
  return attributes & COMPRESSION_CODEC_MASK
}

export function isControlBatch (attributes: number): boolean {
  return (attributes & CONTROL_FLAG_MASK) !== 0
}

export function isTransactionalBatch (attributes: number): boolean {
  return (attributes & TRANSACTIONAL_FLAG_MASK) !== 0
}

/** The last offset of the batch at `position`: baseOffset + lastOffsetDelta. */
export function lastOffsetOf (buffer: Buffer, position: number): number {
  return readInt64(buffer, position + BASE_OFFSET_OFFSET) +
    buffer.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET)
}

/**
 * Stamps what the broker owns in a batch header; neither field is covered by the CRC, so the
 * client's checksum stays valid (Kafka's `setLastOffset` / `setPartitionLeaderEpoch`).
 */
export function stampBatch (
  buffer: Buffer, position: number, baseOffset: number, partitionLeaderEpoch: number,
): void {
  writeInt64(buffer, position + BASE_OFFSET_OFFSET, baseOffset)
  buffer.writeInt32BE(partitionLeaderEpoch, position + PARTITION_LEADER_EPOCH_OFFSET)
}
