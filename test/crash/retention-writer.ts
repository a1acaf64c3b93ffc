/**
 * Child process of the retention crash test: appends batches to one partition log (small
 * segments) while retention runs back to back with retention.bytes and a short
 * file.delete.delay.ms, so that a SIGKILL lands anywhere in a segment deletion: before, between
 * or after the `.deleted` renames, before or after the checkpoint, while files wait for their
 * removal. Prints `ACK <id> <baseOffset>` once each batch is durable.
 *   node retention-writer.js <dataDir> <cycle> <fileDeleteDelayMs>
 */
import { LogManager } from '../../src/storage/log-manager.js'
import { batchForId } from './storage-batches.js'

/** Small segments and a little retained: every few appends delete a segment. */
export const RETENTION_SEGMENT_BYTES = 16 * 1024
export const RETENTION_BYTES = 48 * 1024

const [dataDir, cycle, delay] = process.argv.slice(2)
const manager = await LogManager.open({ dataDir: dataDir as string, nodeId: 1,
  defaultConfig: {
    segmentBytes: RETENTION_SEGMENT_BYTES, retentionBytes: RETENTION_BYTES,
    fileDeleteDelayMs: Number(delay),
  } })
const log = await manager.getOrCreateLog('crash', 0)
process.stdout.write('READY\n')

void (async () => {
  for (;;) {
    await manager.enforceRetention()
    await new Promise(resolve => setImmediate(resolve))
  }
})()

const inflight = new Set<Promise<void>>()
for (let n = 0; ; n++) {
  const id = `${cycle}-${n}`
  const batch = batchForId(id)
  const append = log.append(batch.bytes, {
    leaderEpoch: 0, recordsCount: batch.records, maxTimestamp: batch.maxTimestamp,
  }).then(result => {
    process.stdout.write(`ACK ${id} ${result.baseOffset}\n`)
  })
  inflight.add(append)
  void append.finally(() => inflight.delete(append))
  if (inflight.size >= 8) await Promise.race(inflight)
}
