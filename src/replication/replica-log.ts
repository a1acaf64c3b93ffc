/**
 * What replication needs of a partition log: the storage contract of the replication issue
 * (src/storage/partition-log.ts's PartitionLog satisfies it as it is). Kept as an interface so
 * the replication layer states exactly which parts of the log it drives.
 */
export interface ReplicaLog {
  readonly topic: string
  readonly partition: number
  readonly logStartOffset: number
  readonly logEndOffset: number
  readonly highWatermark: number
  /** The local durable end (written end in relaxed mode): what this replica may report. */
  readonly acknowledgedEndOffset: number
  /** The newest leader epoch in the log's epoch cache, -1 when it has none. */
  readonly latestEpoch: number
  /** KIP-101/KIP-279: the end offset of `epoch` here; { -1, -1 } when it is unknown. */
  endOffsetForEpoch (epoch: number): { leaderEpoch: number, endOffset: number }
  /**
   * Appends the leader's batches as they are; resolves once durable. With `fetchOffset`, a
   * log whose end is no longer that offset (truncated meanwhile) refuses them.
   */
  appendAsFollower (records: Buffer, options?: { fetchOffset?: number }):
  Promise<{ firstOffset: number, lastOffset: number } | undefined>
  /**
   * Listens to the written end: after each round's writes (before their fsync) and after a
   * failed write's cut (`cut`). Returns the unsubscribe.
   */
  onWrittenEnd (listener: (writtenEndOffset: number, cut: boolean) => void): () => void
  /** Lets leader appends go on after a failed write's cut (every follower dropped it). */
  liftCutFence (): void
  /** True: the replication layer drives the high watermark (advanceHighWatermark). */
  setReplicated (replicated: boolean): void
  /** Raises the HW to min(offset, acknowledgedEndOffset); never lowers it. True if it moved. */
  advanceHighWatermark (offset: number): boolean
  truncateTo (offset: number): Promise<void>
  truncateFullyAndStartAt (offset: number): Promise<void>
  /** Raises the log start offset (the leader's moved: retention, DeleteRecords). */
  deleteSegmentsBefore (offset: number): Promise<void>
}
