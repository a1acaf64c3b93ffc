/**
 * Child process of the storage crash test: appends batches to one partition log as fast as it
 * can and prints `ACK <id> <baseOffset> <sequence>` once each is durable. Batch contents are a
 * pure function of the id (and sequence), so the parent can rebuild them byte for byte.
 *   node storage-writer.js <dataDir> <cycle> [plain|idempotent]
 * plain: 16 appends in flight. idempotent: producer CRASH_PRODUCER_ID, epoch 0, one append in
 * flight, continuing the sequence after the last batch in the log.
 */
import { readInt64 } from '../../src/records/batch-header.js'
import { splitBatches } from '../../src/records/batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { CRASH_PRODUCER_ID, batchForId } from './storage-batches.js'

const [dataDir, cycle, mode] = process.argv.slice(2)
const manager = await LogManager.open({ dataDir: dataDir as string, nodeId: 1,
  defaultConfig: { segmentBytes: 256 * 1024 } })
const log = await manager.getOrCreateLog('crash', 0)

/** The sequence after the last batch of the log (batches hold at most 20 records). */
async function nextSequence (partitionLog: PartitionLog): Promise<number> {
  const from = Math.max(partitionLog.logStartOffset, partitionLog.logEndOffset - 20)
  if (from === partitionLog.logEndOffset) return 0
  // A read stops at the end of a segment, so the last batches may need more than one read
  // (the test failed about once in 30 runs when a roll fell among the last 20 offsets).
  let next = 0
  let offset = from
  while (offset < partitionLog.logEndOffset) {
    const { records } = await partitionLog.read(offset, 1 << 20)
    const batches = splitBatches(records)
    if (batches.length === 0) break
    for (const { position } of batches) {
      offset = readInt64(records, position) + records.readInt32BE(position + 23) + 1
      if (readInt64(records, position + 43) !== CRASH_PRODUCER_ID) continue
      next = records.readInt32BE(position + 53) + records.readInt32BE(position + 23) + 1
    }
  }
  return next
}

process.stdout.write('READY\n')
let n = 0
if (mode === 'idempotent') {
  let sequence = await nextSequence(log)
  for (;;) {
    const id = `${cycle}-${n++}`
    const producer = { producerId: CRASH_PRODUCER_ID, producerEpoch: 0, baseSequence: sequence }
    const batch = batchForId(id, producer)
    const result = await log.append(batch.bytes, {
      leaderEpoch: 0, recordsCount: batch.records, maxTimestamp: batch.maxTimestamp, ...producer,
    })
    process.stdout.write(`ACK ${id} ${result.baseOffset} ${sequence}\n`)
    sequence += batch.records
  }
} else {
  const inflight = new Set<Promise<void>>()
  for (;;) {
    const id = `${cycle}-${n++}`
    const batch = batchForId(id)
    const append = log.append(batch.bytes, {
      leaderEpoch: 0, recordsCount: batch.records, maxTimestamp: batch.maxTimestamp,
    }).then(result => {
      process.stdout.write(`ACK ${id} ${result.baseOffset} -1\n`)
    })
    inflight.add(append)
    void append.finally(() => inflight.delete(append))
    if (inflight.size >= 16) await Promise.race(inflight)
  }
}
