/**
 * Child process of the transactional compaction crash test: three transactional producers
 * (new ids each cycle) interleave transactions of one or two keyed records a batch on a
 * compacted log with small segments, ending each with a COMMIT or an ABORT marker (seeded),
 * among plain records, while the cleaner runs back to back with a short delete.retention.ms,
 * so that kills land in swaps that remove aborted records and ABORT markers with their
 * `.txnindex` entries. At start it aborts the transactions a kill left open (as a
 * coordinator would). Prints, once durable:
 *   DATA <offset> <producerId> <key> <value>     a transactional record
 *   PLAIN <offset> <key> <value>                 a non-transactional record
 *   END <producerId> COMMIT|ABORT <offset>       a marker
 *   node txn-compaction-writer.js <dataDir> <cycle> <seed>
 */
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { buildControlBatch } from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { seededRandom } from '../support/seeded-random.js'

const KEYS = 20
const [dataDir, cycleArg, seedArg] = process.argv.slice(2)
const cycle = Number(cycleArg)
const random = seededRandom(Number(seedArg) + cycle)
const manager = await LogManager.open({ dataDir: dataDir as string, nodeId: 1,
  defaultConfig: { segmentBytes: 4 * 1024, cleanupPolicy: ['compact'],
    minCleanableDirtyRatio: 0, fileDeleteDelayMs: 10, deleteRetentionMs: 50 },
  cleaner: { backoffMs: 0 } })
const log = await manager.getOrCreateLog('crash', 0)

async function endTransaction (target: PartitionLog, producerId: number, epoch: number,
  commit: boolean): Promise<void> {
  const now = Date.now()
  const batch = buildControlBatch({ producerId, producerEpoch: epoch, commit,
    coordinatorEpoch: 1, timestampMs: now })
  const result = await target.append(batch, { leaderEpoch: 0, recordsCount: 1, maxTimestamp: now,
    producerId, producerEpoch: epoch, baseSequence: -1, isTransactional: true,
    abortMarker: !commit })
  process.stdout.write(`END ${producerId} ${commit ? 'COMMIT' : 'ABORT'} ${result.baseOffset}\n`)
}

for (const producer of log.activeProducers()) {
  if (producer.currentTxnStartOffset >= 0) {
    await endTransaction(log, producer.producerId, producer.epoch, false)
  }
}
process.stdout.write('READY\n')

const producers = [0, 1, 2].map(j => ({ id: 1000 + cycle * 10 + j, sequence: 0, batches: 0 }))
for (let n = 0; ; n++) {
  const now = Date.now()
  if (random() < 0.2) {
    const key = `k${Math.floor(random() * KEYS)}`
    const value = `plain-${cycle}-${n}`
    const batch = buildRecordBatchSync([{ key, value }], { timestampMs: now })
    const result = await log.append(batch, { leaderEpoch: 0, recordsCount: 1, maxTimestamp: now })
    process.stdout.write(`PLAIN ${result.baseOffset} ${key} ${value}\n`)
    continue
  }
  const producer = producers[Math.floor(random() * producers.length)] as typeof producers[0]
  if (producer.batches === 0 || (producer.batches < 3 && random() < 0.5)) {
    const records = [0, 1].slice(0, 1 + Math.floor(random() * 2)).map(i => ({
      key: `k${Math.floor(random() * KEYS)}`, value: `txn-${producer.id}-${n}-${i}`,
    }))
    const fields = { producerId: producer.id, producerEpoch: 0, baseSequence: producer.sequence }
    const batch = buildRecordBatchSync(records.map(record => ({ ...record, timestamp: now })),
      { timestampMs: now, transactional: true, ...fields })
    producer.sequence += records.length
    producer.batches++
    const result = await log.append(batch, { leaderEpoch: 0, recordsCount: records.length,
      maxTimestamp: now, ...fields, isTransactional: true })
    records.forEach((record, i) => {
      process.stdout.write(`DATA ${result.baseOffset + i} ${producer.id} ${record.key} ` +
        `${record.value}\n`)
    })
  } else {
    producer.batches = 0
    await endTransaction(log, producer.id, 0, random() < 0.6)
  }
}
