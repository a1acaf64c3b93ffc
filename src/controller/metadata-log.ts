/**
 * The cluster metadata log on the segment engine: `__cluster_metadata-0` in the data directory,
 * one record batch per controller operation, each record value a msgpackr-encoded
 * MetadataRecord. Kafka's KafkaMetadataLog plays the same part for KRaft.
 *
 * Appends go through the normal fsync-before-ack path, so an operation is acknowledged only
 * once its records are on disk; a batch is atomic (its CRC covers all its records), so a crash
 * leaves either the whole operation or none of it after recovery.
 */
import type { MetadataImage } from '../metadata/image.js'
import {
  decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord,
} from '../metadata/records.js'
import { buildRecordBatch } from '../records/builder.js'
import { decodeRecordBatch, splitBatches } from '../records/batch.js'
import type { Clock } from '../io/clock.js'
import type { LogManager } from '../storage/log-manager.js'
import type { PartitionLog } from '../storage/partition-log.js'
import type { MetadataLog } from './controller.js'

export const METADATA_TOPIC = '__cluster_metadata'
/** Reads of the metadata log at start-up go in slices of this many bytes. */
const REPLAY_READ_BYTES = 4 * 1024 * 1024

export class SegmentMetadataLog implements MetadataLog {
  readonly #log: PartitionLog
  readonly #clock: Clock

  private constructor (log: PartitionLog, clock: Clock) {
    this.#log = log
    this.#clock = clock
  }

  static async open (logManager: LogManager, clock: Clock): Promise<SegmentMetadataLog> {
    const log = await logManager.getOrCreateLog(METADATA_TOPIC, 0)
    return new SegmentMetadataLog(log, clock)
  }

  async append (records: MetadataRecord[]): Promise<void> {
    const nowMs = this.#clock.nowMs()
    const batch = await buildRecordBatch(
      records.map(record => ({ key: null, value: encodeMetadataRecord(record) })),
      { timestampMs: nowMs })
    await this.#log.append(batch, {
      leaderEpoch: 0, recordsCount: records.length, maxTimestamp: nowMs,
    })
  }

  /** Replays every record of the log into `image`, in order; returns how many it replayed. */
  async replayInto (image: MetadataImage): Promise<number> {
    let offset = this.#log.logStartOffset
    let replayed = 0
    while (offset < this.#log.logEndOffset) {
      const { records } = await this.#log.read(offset, REPLAY_READ_BYTES, { minOneBatch: true })
      if (records.length === 0) break
      for (const { position, size } of splitBatches(records)) {
        const batch = await decodeRecordBatch(records.subarray(position, position + size))
        for (const record of batch.records) {
          if (record.offset < offset || record.value === null) continue
          image.replay(decodeMetadataRecord(record.value))
          replayed++
        }
        offset = batch.header.baseOffset + batch.header.lastOffsetDelta + 1
      }
    }
    return replayed
  }
}
