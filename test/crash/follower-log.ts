/**
 * The leader log of the follower crash test: batches whose contents are a pure function of
 * their index, in leader epochs that change every few batches, some from an idempotent
 * producer and some in transactions (with markers), written by one leader LogManager.
 */
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { buildControlBatch } from '../../src/records/control-batch.js'
import { LogManager } from '../../src/storage/log-manager.js'

export const FOLLOWER_CONFIG = { segmentBytes: 8 * 1024, indexIntervalBytes: 1024 }
const PRODUCER_ID = 77
const TXN_PRODUCER_ID = 78

/** Writes `batches` batches into `<dataDir>/crash-0`; returns the log end offset. */
export async function writeLeaderLog (dataDir: string, batches: number): Promise<number> {
  const manager = await LogManager.open({ dataDir, nodeId: 1, defaultConfig: FOLLOWER_CONFIG })
  const log = await manager.getOrCreateLog('crash', 0)
  let sequence = 0
  let txnSequence = 0
  for (let n = 0; n < batches; n++) {
    const leaderEpoch = Math.floor(n / 25) * 2 + (n % 50 < 25 ? 0 : 1)
    const timestamp = 1_000_000 + n
    const records = Array.from({ length: 1 + (n % 7) }, (_, i) => ({
      key: `k${n}-${i}`, value: Buffer.alloc(50 + (n * 37) % 300, n % 256), timestamp,
    }))
    if (n % 11 === 10) {
      await log.append(buildControlBatch({ producerId: TXN_PRODUCER_ID, producerEpoch: 0,
        commit: n % 22 === 10, coordinatorEpoch: 0, timestampMs: timestamp }), {
        leaderEpoch, recordsCount: 1, maxTimestamp: timestamp, producerId: TXN_PRODUCER_ID,
        producerEpoch: 0, baseSequence: -1, isTransactional: true, abortMarker: n % 22 !== 10,
      })
      continue
    }
    const producer = n % 3 === 0
      ? { producerId: PRODUCER_ID, producerEpoch: 0, baseSequence: sequence }
      : n % 3 === 1
        ? { producerId: TXN_PRODUCER_ID, producerEpoch: 0, baseSequence: txnSequence }
        : undefined
    const transactional = n % 3 === 1
    await log.append(buildRecordBatchSync(records, { timestampMs: timestamp, ...producer,
      transactional }), { leaderEpoch, recordsCount: records.length, maxTimestamp: timestamp,
      ...producer, isTransactional: transactional })
    if (n % 3 === 0) sequence += records.length
    if (n % 3 === 1) txnSequence += records.length
  }
  const end = log.logEndOffset
  await manager.close()
  return end
}
