/**
 * The cluster metadata log on the segment engine: `metadata/__cluster_metadata-0` in the data
 * directory, opened through LogManager.openMetadataLog and never registered as a topic log, so
 * no Kafka or HTTP request can name, produce to, fetch, configure or trim it. One record batch
 * per controller operation, each record value a msgpackr-encoded MetadataRecord. Kafka's
 * KafkaMetadataLog plays the same part for KRaft.
 *
 * Appends go through the normal fsync-before-ack path, so an operation is acknowledged only
 * once its records are on disk; a batch is atomic (its CRC covers all its records), so a crash
 * leaves either the whole operation or none of it after recovery.
 *
 * Replay: a record that does not decode stops start-up with MetadataLogCorruptError naming the
 * file and offset. Skipping it would build an image that disagrees with what was acknowledged
 * (and an image missing topics would set their partition logs aside as strays).
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

export { METADATA_TOPIC } from './metadata-topic.js'
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
    return new SegmentMetadataLog(await logManager.openMetadataLog(), clock)
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
          .catch((error: unknown) => { throw this.#corrupt(offset, error) })
        for (const record of batch.records) {
          if (record.offset < offset) continue
          if (record.value === null) throw this.#corrupt(record.offset, 'the record has no value')
          try {
            // A record the image refuses (an assertion) is as unreadable as one that does not
            // decode: either way the log is not one this controller wrote.
            image.replay(decodeMetadataRecord(record.value))
          } catch (error) {
            throw this.#corrupt(record.offset, error)
          }
          replayed++
        }
        offset = batch.header.baseOffset + batch.header.lastOffsetDelta + 1
      }
    }
    return replayed
  }

  #corrupt (offset: number, cause: unknown): MetadataLogCorruptError {
    const reason = cause instanceof Error ? cause.message : String(cause)
    return new MetadataLogCorruptError(`the metadata log in ${this.#log.directory} has a ` +
      `record at offset ${offset} that cannot be read (${reason}); start-up stops rather ` +
      'than build the cluster metadata without it. Restore the data directory from a backup')
  }
}

export class MetadataLogCorruptError extends Error {
  override name = 'MetadataLogCorruptError'
}
