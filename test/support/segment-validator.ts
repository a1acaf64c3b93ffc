/**
 * Validates a broker's segment files on disk directly, without the storage engine, for crash
 * tests: a second opinion on what recovery left behind.
 *
 * For each partition directory (`<topic>-<partition>` holding `<20-digit base>.log` files):
 * - every `.log` parses into RecordBatch v2 batches back to back (length ≥ 61, magic 2, a
 *   CRC-32C that matches, lastOffsetDelta ≥ 0, recordsCount = lastOffsetDelta + 1 as nothing
 *   here is compacted);
 * - the first batch of a segment starts at the base offset in its file name, offsets are
 *   contiguous within a segment, and each segment starts where the one before it ended;
 * - every `.index` entry (int32 offset relative to the base, int32 position) points at a batch
 *   start whose LAST offset is the entry's offset (Kafka's LogSegment.append indexes the
 *   appended batch's last offset), with offsets and positions strictly increasing; the first
 *   entry is at position 0; with `indexIntervalBytes` given, each next entry is at the first
 *   batch more than that many bytes past the previous one, exactly as the broker adds them;
 * - every `.timeindex` entry (int64 timestamp, int32 relative offset) names an offset inside a
 *   batch of the segment and the largest batch max timestamp up to that batch; timestamps
 *   strictly increase, and the last entry holds the segment's max timestamp (written at roll
 *   and at a clean close).
 *
 * Modes: `strict` (after a clean shutdown) requires all of the above. `afterCrash` (a broker
 * killed a moment ago) checks the `.log` files only, and allows what an unclean stop may
 * leave and recovery will cut: a partial batch at the end of the last segment holding data,
 * and a gap before trailing segments that are still empty (a roll whose predecessor's last
 * writes never landed). Problems are returned as sentences, not thrown, so a script can count
 * passed and failed cycles.
 */
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, batchCrcMatches, readBatchHeader,
} from '../../src/records/batch-header.js'

const SEGMENT_LOG = /^(\d{20})\.log$/
const OFFSET_ENTRY_BYTES = 8
const TIME_ENTRY_BYTES = 12

export interface ValidateOptions {
  mode?: 'strict' | 'afterCrash'
  /** The partition's index.interval.bytes; checks that no index entry is missing or extra. */
  indexIntervalBytes?: number
  /**
   * The partition is compacted: within a segment offsets only increase (records and batches
   * removed by the cleaner leave gaps) and a batch holds at most lastOffsetDelta + 1 records
   * (an emptied batch holds none). Segments still start where the one before ended.
   */
  compacted?: boolean
}

export interface SegmentSummary {
  baseOffset: number
  /** The offset after the segment's last whole batch. */
  nextOffset: number
  batches: number
  bytes: number
  /** Bytes after the last whole batch (only ever non-zero in afterCrash mode). */
  tornBytes: number
  indexEntries: number
  timeIndexEntries: number
}

export interface PartitionValidation {
  directory: string
  segments: SegmentSummary[]
  /** The offset after the last whole batch of the partition. */
  logEndOffset: number
  problems: string[]
}

interface ParsedBatch {
  position: number
  size: number
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
}

interface ParsedSegment {
  summary: SegmentSummary
  batches: ParsedBatch[]
}

/** Parses one `.log` file; problems go to `problems`, prefixed with the file name. */
function parseLog (log: Buffer, baseOffset: number, name: string,
  problems: string[], compacted = false): ParsedSegment {
  const batches: ParsedBatch[] = []
  let position = 0
  let expected = baseOffset
  while (position + LOG_OVERHEAD_BYTES <= log.length) {
    const size = log.readInt32BE(position + 8) + LOG_OVERHEAD_BYTES
    if (size < BATCH_HEADER_BYTES || position + size > log.length) break
    const header = readBatchHeader(log, position)
    const where = `${name} @${position} (offset ${header.baseOffset})`
    if (header.magic !== 2) problems.push(`${where}: magic ${header.magic}`)
    if (!batchCrcMatches(log, position, size)) problems.push(`${where}: CRC mismatch`)
    if (compacted ? header.baseOffset < expected : header.baseOffset !== expected) {
      problems.push(`${where}: base offset ${header.baseOffset}, expected ${expected}`)
    }
    const countMatches = compacted
      ? header.recordsCount >= 0 && header.recordsCount <= header.lastOffsetDelta + 1
      : header.recordsCount === header.lastOffsetDelta + 1
    if (header.lastOffsetDelta < 0 || !countMatches) {
      problems.push(`${where}: lastOffsetDelta ${header.lastOffsetDelta} with ` +
        `${header.recordsCount} records`)
    }
    const lastOffset = header.baseOffset + Math.max(header.lastOffsetDelta, 0)
    batches.push({ position, size, baseOffset: header.baseOffset, lastOffset,
      maxTimestamp: header.maxTimestamp })
    expected = lastOffset + 1
    position += size
  }
  return {
    batches,
    summary: { baseOffset, nextOffset: expected, batches: batches.length, bytes: log.length,
      tornBytes: log.length - position, indexEntries: 0, timeIndexEntries: 0 },
  }
}

/** Offset index checks; returns the number of entries. */
function checkOffsetIndex (index: Buffer, segment: ParsedSegment, name: string,
  intervalBytes: number | undefined, problems: string[]): number {
  const { baseOffset } = segment.summary
  const byPosition = new Map(segment.batches.map(batch => [batch.position, batch]))
  if (index.length % OFFSET_ENTRY_BYTES !== 0) {
    problems.push(`${name}: ${index.length} bytes is not whole 8-byte entries`)
  }
  const count = Math.floor(index.length / OFFSET_ENTRY_BYTES)
  if (count === 0 && segment.batches.length > 0) {
    problems.push(`${name}: empty for a non-empty log`)
  }
  const positions: number[] = []
  for (let entry = 0; entry < count; entry++) {
    const relative = index.readInt32BE(entry * OFFSET_ENTRY_BYTES)
    const position = index.readInt32BE(entry * OFFSET_ENTRY_BYTES + 4)
    const batch = byPosition.get(position)
    if (batch === undefined) {
      problems.push(`${name} entry ${entry}: position ${position} is not a batch start`)
    } else if (batch.lastOffset !== baseOffset + relative) {
      problems.push(`${name} entry ${entry}: offset ${baseOffset + relative}, but the batch ` +
        `at ${position} ends at ${batch.lastOffset}`)
    }
    if (entry > 0 && position <= (positions[entry - 1] as number)) {
      problems.push(`${name} entry ${entry}: position ${position} does not increase`)
    }
    positions.push(position)
  }
  if (count > 0 && positions[0] !== 0) problems.push(`${name}: first entry not at position 0`)
  if (intervalBytes !== undefined && count > 0) {
    const wanted = expectedIndexPositions(segment.batches, intervalBytes)
    if (wanted.join() !== positions.join()) {
      problems.push(`${name}: entries at [${positions.join(', ')}], the broker adds them at ` +
        `[${wanted.join(', ')}] for index.interval.bytes ${intervalBytes}`)
    }
  }
  return count
}

/** Where the broker puts entries: the first batch, then the first past each interval. */
function expectedIndexPositions (batches: ParsedBatch[], intervalBytes: number): number[] {
  const positions: number[] = []
  let last = -1
  for (const { position } of batches) {
    if (last < 0 || position - last > intervalBytes) {
      positions.push(position)
      last = position
    }
  }
  return positions
}

/** Time index checks; returns the number of entries. */
function checkTimeIndex (times: Buffer, segment: ParsedSegment, name: string,
  problems: string[]): number {
  const { baseOffset } = segment.summary
  if (times.length % TIME_ENTRY_BYTES !== 0) {
    problems.push(`${name}: ${times.length} bytes is not whole 12-byte entries`)
  }
  const count = Math.floor(times.length / TIME_ENTRY_BYTES)
  let runningMax = -1
  let batchAt = 0
  let previous = -1
  for (let entry = 0; entry < count; entry++) {
    const timestamp = Number(times.readBigInt64BE(entry * TIME_ENTRY_BYTES))
    const offset = baseOffset + times.readInt32BE(entry * TIME_ENTRY_BYTES + 8)
    if (timestamp <= previous) problems.push(`${name} entry ${entry}: timestamp goes back`)
    previous = timestamp
    // Advance through the batches up to the one holding `offset`, tracking the max timestamp.
    while (batchAt < segment.batches.length &&
      (segment.batches[batchAt] as ParsedBatch).lastOffset < offset) {
      runningMax = Math.max(runningMax, (segment.batches[batchAt] as ParsedBatch).maxTimestamp)
      batchAt++
    }
    const batch = segment.batches[batchAt]
    if (batch === undefined || batch.baseOffset > offset) {
      problems.push(`${name} entry ${entry}: offset ${offset} is in no batch of the segment`)
      break
    }
    const maxThere = Math.max(runningMax, batch.maxTimestamp)
    if (timestamp !== maxThere) {
      problems.push(`${name} entry ${entry}: timestamp ${timestamp} at offset ${offset}, ` +
        `but the largest timestamp up to there is ${maxThere}`)
    }
  }
  const segmentMax = Math.max(-1, ...segment.batches.map(batch => batch.maxTimestamp))
  if (segmentMax >= 0 && previous !== segmentMax) {
    problems.push(`${name}: last entry ${previous}, segment max timestamp ${segmentMax}`)
  }
  return count
}

async function readOptional (file: string): Promise<Buffer | undefined> {
  return readFile(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
}

/** Validates one partition directory (see the header for what is checked in which mode). */
export async function validatePartitionDir (directory: string,
  options: ValidateOptions = {}): Promise<PartitionValidation> {
  const strict = (options.mode ?? 'strict') === 'strict'
  const problems: string[] = []
  const partition = path.basename(directory)
  const bases = (await readdir(directory)).flatMap(name => {
    const match = SEGMENT_LOG.exec(name)
    return match === null ? [] : [Number(match[1])]
  }).sort((a, b) => a - b)
  const parsed: ParsedSegment[] = []
  for (const base of bases) {
    const stem = String(base).padStart(20, '0')
    const label = `${partition}/${stem}`
    const file = path.join(directory, stem)
    const segment = parseLog(await readFile(`${file}.log`), base, `${label}.log`, problems,
      options.compacted)
    parsed.push(segment)
    if (!strict) continue
    const index = await readOptional(`${file}.index`)
    const times = await readOptional(`${file}.timeindex`)
    if (index === undefined) problems.push(`${label}.index is missing`)
    else {
      segment.summary.indexEntries = checkOffsetIndex(index, segment, `${label}.index`,
        options.indexIntervalBytes, problems)
    }
    if (times === undefined) problems.push(`${label}.timeindex is missing`)
    else {
      segment.summary.timeIndexEntries = checkTimeIndex(times, segment, `${label}.timeindex`,
        problems)
    }
  }
  checkAcrossSegments(parsed, partition, strict, problems)
  const withBatches = parsed.filter(segment => segment.batches.length > 0).at(-1)
  return {
    directory,
    segments: parsed.map(segment => segment.summary),
    logEndOffset: withBatches?.summary.nextOffset ?? parsed.at(-1)?.summary.baseOffset ?? 0,
    problems,
  }
}

/** Contiguity between segments, and where torn bytes may be. */
function checkAcrossSegments (parsed: ParsedSegment[], partition: string, strict: boolean,
  problems: string[]): void {
  let lastWithData = -1
  parsed.forEach((segment, at) => { if (segment.summary.bytes > 0) lastWithData = at })
  for (let at = 0; at < parsed.length; at++) {
    const { summary } = parsed[at] as ParsedSegment
    const name = `${partition}/${String(summary.baseOffset).padStart(20, '0')}.log`
    if (summary.tornBytes > 0 && (strict || at !== lastWithData)) {
      problems.push(`${name}: ${summary.tornBytes} bytes after the last whole batch`)
    }
    const previous = parsed[at - 1]?.summary
    if (previous === undefined || summary.baseOffset === previous.nextOffset) continue
    const onlyEmptyAfter = !strict && at > lastWithData
    if (!onlyEmptyAfter) {
      problems.push(`${name}: starts at ${summary.baseOffset}, the segment before ends at ` +
        `${previous.nextOffset}`)
    }
  }
}

/**
 * Every partition directory of a data directory (those holding `.log` files), and the metadata
 * log under `metadata/`.
 */
export async function validateDataDir (dataDir: string,
  options: ValidateOptions = {}): Promise<PartitionValidation[]> {
  const results: PartitionValidation[] = []
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const directory = path.join(dataDir, entry.name)
    if (entry.name === 'metadata') {
      results.push(...await validateDataDir(directory, options))
      continue
    }
    if (!(await readdir(directory)).some(name => SEGMENT_LOG.test(name))) continue
    results.push(await validatePartitionDir(directory, options))
  }
  return results
}

/** All problems of a data directory's validation, as one list. */
export function problemsOf (results: PartitionValidation[]): string[] {
  return results.flatMap(result => result.problems)
}
