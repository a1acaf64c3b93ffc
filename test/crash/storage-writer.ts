/**
 * Child process of the storage crash test: appends batches to one partition log as fast as it
 * can, with several appends in flight, and prints `ACK <id> <baseOffset>` once each is durable.
 * Batch contents are a pure function of the id, so the parent can rebuild them byte for byte.
 *   node storage-writer.js <dataDir> <cycle>
 */
import { LogManager } from '../../src/storage/log-manager.js'
import { batchForId } from './storage-batches.js'

const [dataDir, cycle] = process.argv.slice(2)
const manager = await LogManager.open({ dataDir: dataDir as string, nodeId: 1,
  defaultConfig: { segmentBytes: 256 * 1024 } })
const log = await manager.getOrCreateLog('crash', 0)
process.stdout.write('READY\n')
let n = 0
const inflight = new Set<Promise<void>>()
for (;;) {
  const id = `${cycle}-${n++}`
  const batch = batchForId(id)
  const append = log.append(batch.bytes, {
    leaderEpoch: 0, recordsCount: batch.records, maxTimestamp: batch.maxTimestamp,
  }).then(result => {
    process.stdout.write(`ACK ${id} ${result.baseOffset}\n`)
  })
  inflight.add(append)
  void append.finally(() => inflight.delete(append))
  if (inflight.size >= 16) await Promise.race(inflight)
}
