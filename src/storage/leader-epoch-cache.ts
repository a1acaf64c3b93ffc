/**
 * The leader epoch cache of one partition (Kafka's LeaderEpochFileCache, KIP-101/KIP-279):
 * for each leader epoch that wrote to the log, the offset of its first batch. Entries are
 * strictly increasing in both epoch and start offset. A follower asks its leader where one of
 * its epochs ends (`endOffsetFor`, OffsetForLeaderEpoch or Fetch's diverging epoch) and
 * truncates to that point, so that no replica keeps a record the leader does not have.
 *
 * Pure: no I/O. The partition log persists the entries to `<partition dir>/leader-epoch-
 * checkpoint` in Kafka's text format (LeaderEpochCheckpointFile):
 *   0\n<count>\n<epoch> <startOffset>\n...
 */

/** No epoch known (Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET). */
export const UNDEFINED_EPOCH = -1
export const UNDEFINED_EPOCH_OFFSET = -1

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint'
/** Entries a checkpoint may hold; one per leader change, so far beyond any real partition. */
const CHECKPOINT_ENTRIES_MAX = 1_000_000

export interface EpochEntry {
  epoch: number
  startOffset: number
}

export interface EpochEndOffset {
  leaderEpoch: number
  endOffset: number
}

export class LeaderEpochCache {
  #entries: EpochEntry[] = []

  constructor (entries: readonly EpochEntry[] = []) {
    for (const entry of entries) this.assign(entry.epoch, entry.startOffset)
  }

  /** A copy of the entries, oldest first. */
  get entries (): EpochEntry[] {
    return this.#entries.map(entry => ({ ...entry }))
  }

  get size (): number {
    return this.#entries.length
  }

  /** The newest epoch, or -1 when the cache is empty. */
  get latestEpoch (): number {
    return this.#entries.at(-1)?.epoch ?? UNDEFINED_EPOCH
  }

  get latestEntry (): EpochEntry | undefined {
    const last = this.#entries.at(-1)
    return last === undefined ? undefined : { ...last }
  }

  /**
   * Records that `epoch` begins at `startOffset` (Kafka's LeaderEpochFileCache.assign). A
   * repeat of the latest epoch at a later offset changes nothing; a new epoch first drops the
   * entries it conflicts with (epoch ≥ it, or start offset ≥ its), so an entry at the same start
   * offset as the last one replaces it. A negative epoch (a batch without one) is ignored.
   * Returns whether the cache changed.
   */
  assign (epoch: number, startOffset: number): boolean {
    if (epoch < 0 || startOffset < 0) return false
    const last = this.#entries.at(-1)
    if (last !== undefined && epoch === last.epoch && startOffset >= last.startOffset) return false
    // Kafka's maybeTruncateNonMonotonicEntries: keeps both sequences strictly increasing.
    while (this.#entries.length > 0) {
      const newest = this.#entries.at(-1) as EpochEntry
      if (newest.epoch < epoch && newest.startOffset < startOffset) break
      this.#entries.pop()
    }
    this.#entries.push({ epoch, startOffset })
    return true
  }

  /**
   * Where `requestedEpoch` ends in this log (Kafka's endOffsetFor): the latest epoch ends at
   * the log end; an older one at the start of the next higher epoch, answered with the largest
   * epoch ≤ the requested one (or the requested one itself when it predates every entry: its
   * data was deleted, and the follower truncates to the first known epoch's start). An
   * undefined epoch, one newer than any known, or an empty cache: { -1, -1 }.
   */
  endOffsetFor (requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    const undefinedResult = { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET }
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedResult
    if (this.#entries.length > 0 && this.latestEpoch === requestedEpoch) {
      return { leaderEpoch: requestedEpoch, endOffset: logEndOffset }
    }
    const higher = this.#entries.findIndex(entry => entry.epoch > requestedEpoch)
    if (higher < 0) return undefinedResult
    const endOffset = (this.#entries[higher] as EpochEntry).startOffset
    const floor = this.#entries[higher - 1]
    return { leaderEpoch: floor === undefined ? requestedEpoch : floor.epoch, endOffset }
  }

  /** The epoch of the batch holding `offset` (Kafka's epochForOffset), or undefined. */
  epochForOffset (offset: number): number | undefined {
    let epoch: number | undefined
    for (const entry of this.#entries) {
      if (entry.startOffset > offset) break
      epoch = entry.epoch
    }
    return epoch
  }

  /** Drops the entries starting at or after `endOffset` (log truncation); true if any went. */
  truncateFromEnd (endOffset: number): boolean {
    const before = this.#entries.length
    while (this.#entries.length > 0 && (this.#entries.at(-1) as EpochEntry).startOffset >= endOffset) {
      this.#entries.pop()
    }
    return this.#entries.length !== before
  }

  /**
   * The log now starts at `startOffset`: entries wholly before it go, and the last one starting
   * at or before it moves its start up to it (Kafka's truncateFromStart); true if it changed.
   */
  truncateFromStart (startOffset: number): boolean {
    let removed: EpochEntry | undefined
    let count = 0
    while (count < this.#entries.length &&
      (this.#entries[count] as EpochEntry).startOffset <= startOffset) {
      removed = this.#entries[count]
      count++
    }
    if (removed === undefined) return false
    if (count === 1 && removed.startOffset === startOffset) return false
    this.#entries.splice(0, count, { epoch: removed.epoch, startOffset })
    return true
  }

  /** Empties the cache; true if it held anything. */
  clear (): boolean {
    const had = this.#entries.length > 0
    this.#entries = []
    return had
  }
}

export function formatEpochCheckpoint (entries: readonly EpochEntry[]): string {
  const lines = ['0', String(entries.length)]
  for (const entry of entries) lines.push(`${entry.epoch} ${entry.startOffset}`)
  return lines.join('\n') + '\n'
}

/**
 * The entries of a checkpoint file, or undefined when it is not one: a wrong version, a count
 * that does not match the lines, a malformed line, or entries not strictly increasing.
 */
export function parseEpochCheckpoint (text: string): EpochEntry[] | undefined {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  if (lines[0] !== '0') return undefined
  const count = Number(lines[1])
  if (!Number.isSafeInteger(count) || count < 0 || count > CHECKPOINT_ENTRIES_MAX ||
    lines.length !== count + 2) return undefined
  const entries: EpochEntry[] = []
  for (const line of lines.slice(2)) {
    const match = /^(\d+) (\d+)$/.exec(line)
    if (match === null) return undefined
    const entry = { epoch: Number(match[1]), startOffset: Number(match[2]) }
    const previous = entries.at(-1)
    if (!Number.isSafeInteger(entry.epoch) || entry.epoch > 0x7fffffff ||
      !Number.isSafeInteger(entry.startOffset) || (previous !== undefined &&
      (entry.epoch <= previous.epoch || entry.startOffset <= previous.startOffset))) {
      return undefined
    }
    entries.push(entry)
  }
  return entries
}
