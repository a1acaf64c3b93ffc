/**
 * Child process of the compaction crash test: appends keyed records (50 keys, one record a
 * batch) to a compacted log with small segments while the cleaner runs back to back, so a
 * SIGKILL lands anywhere in a cleaning: writing `.cleaned`, after the rename to `.swap`,
 * between the renames of old segments to `.deleted`, before the swap file's rename into place.
 * Prints `ACK <offset> <key> <value>` once each record is durable.
 *   node compaction-writer.js <dataDir> <cycle>
 */
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LogManager } from '../../src/storage/log-manager.js'

export const COMPACTION_CRASH_KEYS = 50

const [dataDir, cycle] = process.argv.slice(2)
const manager = await LogManager.open({ dataDir: dataDir as string, nodeId: 1,
  defaultConfig: { segmentBytes: 8 * 1024, cleanupPolicy: ['compact'],
    minCleanableDirtyRatio: 0, fileDeleteDelayMs: 10 },
  cleaner: { backoffMs: 0 } })
const log = await manager.getOrCreateLog('crash', 0)
process.stdout.write('READY\n')

const inflight = new Set<Promise<void>>()
for (let n = 0; ; n++) {
  const key = `k${(n * 7) % COMPACTION_CRASH_KEYS}`
  const value = `${cycle}-${n}-${'v'.repeat(n % 50)}`
  const batch = buildRecordBatchSync([{ key, value }], { timestampMs: Date.now() })
  const append = log.append(batch, { leaderEpoch: 0, recordsCount: 1, maxTimestamp: Date.now() })
    .then(result => { process.stdout.write(`ACK ${result.baseOffset} ${key} ${value}\n`) })
  inflight.add(append)
  void append.finally(() => inflight.delete(append))
  if (inflight.size >= 8) await Promise.race(inflight)
}
