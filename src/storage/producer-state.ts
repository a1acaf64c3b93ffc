/**
 * Idempotent-producer state of one partition (Kafka's ProducerStateManager / ProducerStateEntry,
 * KIP-98). Pure: no I/O; the partition log feeds it batch headers and persists its snapshots.
 *
 * Per producer id: the epoch and the last 5 batches' sequence ranges with their offsets.
 * `check` classifies a new batch before offsets are assigned:
 *   - a duplicate of one of the last 5 batches → acknowledged with its ORIGINAL offsets;
 *   - an epoch older than known → INVALID_PRODUCER_EPOCH;
 *   - a sequence that does not follow the last one (or, in a new epoch or for an unknown
 *     producer, does not start at 0) → OUT_OF_ORDER_SEQUENCE_NUMBER.
 * Sequences wrap after int32 max to 0, as Kafka's.
 *
 * Per producer too, the newest transaction coordinator epoch of its markers here (Kafka's
 * ProducerStateEntry.coordinatorEpoch): every COMMIT/ABORT marker sets it, on the leader and on
 * followers alike (the control record carries it), and a leader refuses a marker with an older
 * one (`checkMarker`, Kafka's ProducerAppendInfo.checkCoordinatorEpoch), so a deposed
 * coordinator's late marker cannot end the transaction a newer coordinator has started since.
 *
 * Snapshot file (`<offset>.snapshot`, Kafka's ProducerSnapshot v1 layout, simplified to the
 * fields we keep): int16 version=1, uint32 crc32c of the rest, int32 count, then per producer
 * int64 pid, int16 epoch, int32 lastSeq, int64 lastOffset, int32 offsetDelta, int64 timestamp,
 * int32 coordinatorEpoch, int64 currentTxnFirstOffset (-1). One entry per retained batch; a
 * producer with no batch here (only markers) gets one entry with lastSeq and lastOffset -1, as
 * Kafka writes it. Snapshots written before the coordinator epoch was kept hold -1 there: it
 * loads as "no marker seen", which fences nothing.
 */
import { crc32c } from '../records/crc32c.js'

export const BATCHES_RETAINED_PER_PRODUCER = 5
/** Producers tracked per partition; the least recently used is forgotten past this. */
export const PRODUCERS_PER_PARTITION_MAX = 100_000
const INT32_MAX = 0x7fffffff
/** pid, epoch, lastSeq, lastOffset, offsetDelta, timestamp, coordinator epoch, txn start. */
const SNAPSHOT_ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8

interface BatchMetadata {
  firstSeq: number
  lastSeq: number
  firstOffset: number
  lastOffset: number
}

interface ProducerEntry {
  epoch: number
  batches: BatchMetadata[]
  timestamp: number
  /** The coordinator epoch of the newest marker for this producer here; -1 if none. */
  coordinatorEpoch: number
}

export type SequenceCheck =
  | { outcome: 'append' }
  | { outcome: 'duplicate', firstOffset: number, lastOffset: number }
  | { outcome: 'error', kind: 'INVALID_PRODUCER_EPOCH' | 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    message: string }

function nextSequence (sequence: number, delta: number): number {
  const next = sequence + delta
  return next > INT32_MAX ? next - INT32_MAX - 1 : next
}

export class ProducerState {
  readonly #producers = new Map<number, ProducerEntry>()
  /** Producer id → first offset of its ongoing transaction on this partition (KIP-98). */
  readonly #ongoing = new Map<number, number>()

  get size (): number {
    return this.#producers.size
  }

  clear (): void {
    this.#producers.clear()
    this.#ongoing.clear()
  }

  /**
   * The last offsets of every retained batch of every producer (at most
   * BATCHES_RETAINED_PER_PRODUCER each): the batches the log cleaner must keep, emptied if need
   * be, so that a restart's replay still knows them (Kafka keeps each producer's last batch).
   */
  retainedBatchEnds (): number[] {
    const ends: number[] = []
    for (const entry of this.#producers.values()) {
      for (const batch of entry.batches) ends.push(batch.lastOffset)
    }
    return ends
  }

  check (producerId: number, epoch: number, baseSequence: number,
    lastOffsetDelta: number): SequenceCheck {
    const entry = this.#producers.get(producerId)
    const lastSeq = nextSequence(baseSequence, lastOffsetDelta)
    if (entry === undefined) {
      if (baseSequence === 0) return { outcome: 'append' }
      return outOfOrder(`unknown producer ${producerId} must start at sequence 0, ` +
        `got ${baseSequence}`)
    }
    if (epoch < entry.epoch) {
      return {
        outcome: 'error',
        kind: 'INVALID_PRODUCER_EPOCH',
        message: `producer ${producerId} epoch ${epoch} is older than ${entry.epoch}`,
      }
    }
    if (epoch > entry.epoch) {
      if (baseSequence === 0) return { outcome: 'append' }
      return outOfOrder(`new epoch ${epoch} of producer ${producerId} must start at 0`)
    }
    for (const batch of entry.batches) {
      if (batch.firstSeq === baseSequence && batch.lastSeq === lastSeq) {
        return {
          outcome: 'duplicate', firstOffset: batch.firstOffset, lastOffset: batch.lastOffset,
        }
      }
    }
    const last = entry.batches[entry.batches.length - 1]
    const expected = last === undefined ? 0 : nextSequence(last.lastSeq, 1)
    if (baseSequence !== expected) {
      return outOfOrder(`producer ${producerId} sent sequence ${baseSequence}, ` +
        `expected ${expected}`)
    }
    return { outcome: 'append' }
  }

  /** Records an appended (or replayed) batch; state only changes here. */
  update (producerId: number, epoch: number, baseSequence: number, lastOffsetDelta: number,
    firstOffset: number, timestamp: number): void {
    let entry = this.#producers.get(producerId)
    if (entry === undefined) {
      entry = { epoch, batches: [], timestamp, coordinatorEpoch: -1 }
    } else if (epoch > entry.epoch) {
      // A new producer epoch starts with no batches; the coordinator epoch stays (Kafka's
      // ProducerAppendInfo keeps it across epoch bumps: it belongs to the transactional id).
      entry = { epoch, batches: [], timestamp, coordinatorEpoch: entry.coordinatorEpoch }
    }
    this.#producers.delete(producerId)
    this.#producers.set(producerId, entry) // Map order = recency, for eviction.
    entry.batches.push({
      firstSeq: baseSequence,
      lastSeq: nextSequence(baseSequence, lastOffsetDelta),
      firstOffset,
      lastOffset: firstOffset + lastOffsetDelta,
    })
    if (entry.batches.length > BATCHES_RETAINED_PER_PRODUCER) entry.batches.shift()
    entry.timestamp = timestamp
    this.#evictOverflow()
  }

  /**
   * The producers with state here, for DescribeProducers (KIP-664): id, epoch, the last
   * sequence written, the timestamp of its batch and the start of its ongoing transaction.
   * At most PRODUCERS_PER_PARTITION_MAX.
   */
  activeProducers (): { producerId: number, epoch: number, lastSequence: number,
    lastTimestamp: number, coordinatorEpoch: number, currentTxnStartOffset: number }[] {
    return [...this.#producers].map(([producerId, entry]) => ({
      producerId,
      epoch: entry.epoch,
      lastSequence: entry.batches.at(-1)?.lastSeq ?? -1,
      lastTimestamp: entry.timestamp,
      coordinatorEpoch: entry.coordinatorEpoch,
      // The first offset of its ongoing transaction here (-1: none), as kafka-transactions
      // `abort --start-offset` and `find-hanging` look it up.
      currentTxnStartOffset: this.#ongoing.get(producerId) ?? -1,
    }))
  }

  /** A transactional batch was appended: its producer's transaction is ongoing from there. */
  beginTransaction (producerId: number, firstOffset: number): void {
    if (!this.#ongoing.has(producerId)) this.#ongoing.set(producerId, firstOffset)
  }

  /**
   * Why a leader refuses a transaction marker, or undefined when it may be appended (Kafka's
   * ProducerAppendInfo.appendEndTxnMarker, in its order): a producer epoch older than known is
   * INVALID_PRODUCER_EPOCH (a stale marker), a coordinator epoch older than the newest marker's
   * here is TRANSACTION_COORDINATOR_FENCED (a deposed coordinator's).
   */
  checkMarker (producerId: number, epoch: number, coordinatorEpoch: number):
  { kind: 'INVALID_PRODUCER_EPOCH' | 'TRANSACTION_COORDINATOR_FENCED', message: string } |
  undefined {
    const entry = this.#producers.get(producerId)
    if (entry === undefined) return undefined
    if (epoch < entry.epoch) {
      return { kind: 'INVALID_PRODUCER_EPOCH',
        message: `marker epoch ${epoch} of producer ${producerId} is older than ${entry.epoch}` }
    }
    if (coordinatorEpoch < entry.coordinatorEpoch) {
      return { kind: 'TRANSACTION_COORDINATOR_FENCED',
        message: `marker coordinator epoch ${coordinatorEpoch} of producer ${producerId} is ` +
          `older than ${entry.coordinatorEpoch}` }
    }
    return undefined
  }

  /**
   * A COMMIT/ABORT marker was appended (or replicated, or replayed): the transaction ends, its
   * epoch fences older ones (a zombie's late produce then fails INVALID_PRODUCER_EPOCH), and its
   * coordinator epoch becomes the producer's. Set as the log holds it, even if older: a leader
   * checked it before the append, and a follower or a replay takes what the leader wrote
   * (Kafka's checkCoordinatorEpoch only logs for AppendOrigin.REPLICATION). Returns the first
   * offset of the transaction it ended, if one was open here.
   */
  endTransaction (producerId: number, epoch: number, timestamp: number,
    coordinatorEpoch: number): number | undefined {
    const first = this.#ongoing.get(producerId)
    this.#ongoing.delete(producerId)
    const entry = this.#producers.get(producerId)
    if (entry === undefined) {
      this.#producers.set(producerId, { epoch, batches: [], timestamp, coordinatorEpoch })
      this.#evictOverflow()
      return first
    }
    if (epoch > entry.epoch) {
      entry.epoch = epoch
      entry.batches = []
      entry.timestamp = timestamp
    }
    entry.coordinatorEpoch = coordinatorEpoch
    return first
  }

  #evictOverflow (): void {
    if (this.#producers.size > PRODUCERS_PER_PARTITION_MAX) {
      const oldest = this.#producers.keys().next().value
      if (oldest !== undefined) this.#producers.delete(oldest)
    }
  }

  /** The first offset of the oldest ongoing transaction: the last stable offset's bound. */
  firstUnstableOffset (): number | undefined {
    let first: number | undefined
    for (const offset of this.#ongoing.values()) {
      if (first === undefined || offset < first) first = offset
    }
    return first
  }

  /** Forgets batches at or after `offset` (log truncation). */
  truncateTo (offset: number): void {
    for (const [producerId, first] of this.#ongoing) {
      if (first >= offset) this.#ongoing.delete(producerId)
    }
    for (const [producerId, entry] of this.#producers) {
      entry.batches = entry.batches.filter(batch => batch.lastOffset < offset)
      if (entry.batches.length === 0) this.#producers.delete(producerId)
    }
  }

  encodeSnapshot (): Buffer {
    const entryBytes = SNAPSHOT_ENTRY_BYTES
    const body = Buffer.alloc(4 + this.#producers.size * entryBytes *
      BATCHES_RETAINED_PER_PRODUCER)
    let position = 4
    let count = 0
    const write = (producerId: number, entry: ProducerEntry, batch: BatchMetadata | undefined):
    void => {
      body.writeBigInt64BE(BigInt(producerId), position)
      body.writeInt16BE(entry.epoch, position + 8)
      body.writeInt32BE(batch?.lastSeq ?? -1, position + 10)
      body.writeBigInt64BE(BigInt(batch?.lastOffset ?? -1), position + 14)
      body.writeInt32BE(batch === undefined ? 0 : batch.lastOffset - batch.firstOffset,
        position + 22)
      body.writeBigInt64BE(BigInt(entry.timestamp), position + 26)
      body.writeInt32BE(entry.coordinatorEpoch, position + 34)
      body.writeBigInt64BE(BigInt(this.#ongoing.get(producerId) ?? -1), position + 38)
      position += entryBytes
      count++
    }
    for (const [producerId, entry] of this.#producers) {
      // Every retained batch is written, oldest first, so a reload restores dedup of all 5; a
      // producer known only from markers gets one entry without a batch.
      if (entry.batches.length === 0) write(producerId, entry, undefined)
      for (const batch of entry.batches) write(producerId, entry, batch)
    }
    body.writeInt32BE(count, 0)
    const used = body.subarray(0, position)
    const header = Buffer.alloc(6)
    header.writeInt16BE(1, 0)
    header.writeUInt32BE(crc32c(used), 2)
    return Buffer.concat([header, used])
  }

  /** Loads a snapshot; returns false (state untouched) if it is corrupt. */
  loadSnapshot (bytes: Buffer): boolean {
    if (bytes.length < 10 || bytes.readInt16BE(0) !== 1) return false
    const body = bytes.subarray(6)
    if (crc32c(body) !== bytes.readUInt32BE(2)) return false
    const count = body.readInt32BE(0)
    const entryBytes = SNAPSHOT_ENTRY_BYTES
    if (count < 0 || 4 + count * entryBytes !== body.length) return false
    this.#producers.clear()
    this.#ongoing.clear()
    for (let i = 0; i < count; i++) {
      const at = 4 + i * entryBytes
      const producerId = Number(body.readBigInt64BE(at))
      const epoch = body.readInt16BE(at + 8)
      const lastSeq = body.readInt32BE(at + 10)
      const lastOffset = Number(body.readBigInt64BE(at + 14))
      const offsetDelta = body.readInt32BE(at + 22)
      const timestamp = Number(body.readBigInt64BE(at + 26))
      if (lastOffset >= 0) {
        let firstSeq = lastSeq - offsetDelta
        if (firstSeq < 0) firstSeq += INT32_MAX + 1
        this.update(producerId, epoch, firstSeq, offsetDelta, lastOffset - offsetDelta,
          timestamp)
      } else if (!this.#producers.has(producerId)) {
        this.#producers.set(producerId, { epoch, batches: [], timestamp, coordinatorEpoch: -1 })
      }
      const entry = this.#producers.get(producerId)
      // -1 in snapshots from before the coordinator epoch was kept: no marker seen.
      if (entry !== undefined) {
        entry.coordinatorEpoch = Math.max(entry.coordinatorEpoch, body.readInt32BE(at + 34))
      }
      const txnFirstOffset = Number(body.readBigInt64BE(at + 38))
      if (txnFirstOffset >= 0) this.#ongoing.set(producerId, txnFirstOffset)
    }
    return true
  }
}

function outOfOrder (message: string): SequenceCheck {
  return { outcome: 'error', kind: 'OUT_OF_ORDER_SEQUENCE_NUMBER', message }
}
