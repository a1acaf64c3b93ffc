/**
 * The checks run after every fault of the replication fault tests, on a paused workload and a
 * settled cluster:
 *
 * 1. every acknowledged message is in the log exactly once, in its partition, and each sender
 *    loop's messages are in the order it sent them (no message at all appears twice);
 * 2. the consumer group never saw a record that is not (or no longer) in the log at that offset
 *    below the high watermark: it read only committed data;
 * 3. the in-sync replicas' logs are identical on disk, byte for byte, below the high watermark.
 *
 * The log is read back from the beginning through the leaders with a fresh client (Fetch up to
 * the high watermark, as any consumer reads).
 */
import type { KafkaClient } from '../../src/client/client.js'
import { iterateRecords, readBatchHeader, splitBatches } from '../../src/records/index.js'
import type { ProxiedCluster } from '../support/proxied-cluster.js'
import { firstDifference, storedBatches } from './replica-files.js'
import type { Workload } from './replication-workload.js'

export interface CheckResult { name: string, ok: boolean, detail: string }

/** How long a check waits for a leader's high watermark to cover what the group saw. */
const HIGH_WATERMARK_WAIT_MS = 15_000

export interface CheckContext {
  cluster: ProxiedCluster
  client: KafkaClient
  topic: string
  partitions: number
  workload: Workload
}

interface PartitionLog {
  partition: number
  leaderId: number
  isr: number[]
  logStartOffset: number
  highWatermark: number
  /** offset → value, below the high watermark. */
  values: Map<number, string>
  /** offset → its batch's producer id/epoch, base sequence and leader epoch (for reports). */
  batches: Map<number, string>
}

const FETCH_ROUNDS_MAX = 100_000
const DETAILS_MAX = 5

/**
 * The leader's high watermark once it covers every offset the group has seen (bounded wait).
 * A new leader, or one whose ISR just grew back, learns the high watermark from its followers'
 * next fetches, so for a moment it may answer a lower one than its predecessor had (Kafka's
 * too, KIP-207): records below the old one are on it and become readable again. A check that
 * read only to that momentary value once reported four consumed records as lost; a record
 * that is really gone never comes back, so the wait cannot hide a loss.
 */
async function highWatermarkCovering (context: CheckContext, partition: number):
Promise<number> {
  const seen = [...(context.workload.consumed.get(partition)?.keys() ?? [])]
  const floor = seen.length === 0 ? 0 : Math.max(...seen) + 1
  const deadline = Date.now() + HIGH_WATERMARK_WAIT_MS
  for (;;) {
    const highWatermark = (await context.client.listOffsets(context.topic, partition, -1)).offset
    if (highWatermark >= floor || Date.now() > deadline) return highWatermark
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

async function readPartition (context: CheckContext, partition: number): Promise<PartitionLog> {
  const { client, topic } = context
  const metadata = await client.metadata([topic])
  const described = metadata.topics.find(t => t.name === topic)?.partitions
    .find(p => p.partitionIndex === partition)
  if (described === undefined) throw new Error(`no metadata for ${topic}-${partition}`)
  const highWatermark = await highWatermarkCovering(context, partition)
  const values = new Map<number, string>()
  const batches = new Map<number, string>()
  const logStartOffset = (await client.listOffsets(topic, partition, -2)).offset
  let offset = logStartOffset
  for (let round = 0; offset < highWatermark; round++) {
    if (round > FETCH_ROUNDS_MAX) throw new Error(`reading ${topic}-${partition} does not end`)
    const fetched = await client.fetch(topic, partition, offset, { maxWaitMs: 0 })
    const before = offset
    const records = fetched.records ?? Buffer.alloc(0)
    for (const { position } of splitBatches(records)) {
      const header = readBatchHeader(records, position)
      const text = `batch ${header.baseOffset}..${header.baseOffset + header.lastOffsetDelta} ` +
        `pid ${header.producerId} epoch ${header.producerEpoch} seq ${header.baseSequence} ` +
        `leader epoch ${header.partitionLeaderEpoch}`
      for (let i = 0; i <= header.lastOffsetDelta; i++) batches.set(header.baseOffset + i, text)
    }
    for await (const record of iterateRecords(records, { fromOffset: offset })) {
      if (record.offset >= highWatermark) break
      values.set(record.offset, record.value?.toString() ?? '')
      offset = record.offset + 1
    }
    if (offset === before) {
      throw new Error(`${topic}-${partition}: fetch at ${offset} returned nothing below the ` +
        `high watermark ${highWatermark}`)
    }
  }
  return { partition, leaderId: described.leaderId, isr: described.isrNodes, logStartOffset,
    highWatermark, values, batches }
}

function result (name: string, problems: string[], okDetail: string): CheckResult {
  return problems.length === 0
    ? { name, ok: true, detail: okDetail }
    : { name, ok: false, detail: `${problems.length} problem(s): ` +
      problems.slice(0, DETAILS_MAX).join('; ') }
}

function checkAcknowledged (label: string, logs: PartitionLog[], workload: Workload):
CheckResult {
  const problems: string[] = []
  const where = new Map<string, { partition: number, offset: number }[]>()
  for (const log of logs) {
    const lastIdOfLoop = new Map<string, number>()
    for (const [offset, value] of [...log.values].sort((a, b) => a[0] - b[0])) {
      const places = where.get(value) ?? []
      places.push({ partition: log.partition, offset })
      where.set(value, places)
      const [loop, id] = value.split(':')
      const previous = lastIdOfLoop.get(loop ?? '')
      if (previous !== undefined && Number(id) <= previous) {
        problems.push(`partition ${log.partition} offset ${offset}: ${value} after id ${previous}`)
      }
      lastIdOfLoop.set(loop ?? '', Number(id))
    }
  }
  for (const [value, places] of where) {
    if (places.length > 1) {
      const batchOf = (p: { partition: number, offset: number }): string =>
        logs.find(log => log.partition === p.partition)?.batches.get(p.offset) ?? '?'
      problems.push(`${value} is stored ${places.length} times (` +
        places.map(p => `${p.partition}@${p.offset} in ${batchOf(p)}`).join(', ') + ')')
    }
  }
  let acknowledged = 0
  for (const send of workload.sends) {
    if (send.ackedMs === undefined) continue
    for (const id of send.ids) {
      acknowledged++
      const places = where.get(`${send.loop}:${id}`)
      if (places === undefined) {
        problems.push(`acknowledged ${send.loop}:${id} (partition ${send.partition}, acked at ` +
          `${new Date(send.ackedMs).toISOString()}) is missing`)
      } else if (places[0]?.partition !== send.partition) {
        problems.push(`${send.loop}:${id} is in partition ${places[0]?.partition}, ` +
          `sent to ${send.partition}`)
      }
    }
  }
  const stored = logs.reduce((sum, log) => sum + log.values.size, 0)
  return result(`${label}: every acknowledged message once and in order`, problems,
    `${acknowledged} acknowledged, ${stored} stored`)
}

function checkConsumed (label: string, logs: PartitionLog[], workload: Workload): CheckResult {
  const problems = [...workload.consumedConflicts]
  let seen = 0
  for (const [partition, offsets] of workload.consumed) {
    const log = logs.find(l => l.partition === partition)
    for (const [offset, value] of offsets) {
      seen++
      const stored = log?.values.get(offset)
      if (stored === value) continue
      problems.push(`the group saw ${value} at ${partition}@${offset}; the log has ` +
        (stored === undefined
          ? `nothing there (high watermark ${log?.highWatermark})`
          : stored))
    }
  }
  return result(`${label}: the group saw no record that vanished`, problems,
    `${seen} records seen`)
}

async function checkReplicaFiles (label: string, context: CheckContext, logs: PartitionLog[]):
Promise<CheckResult> {
  const problems: string[] = []
  let compared = 0
  for (const log of logs) {
    const leaderDir = context.cluster.broker(log.leaderId).dataDir
    if (leaderDir === undefined) {
      problems.push(`partition ${log.partition}: leader ${log.leaderId} has no data directory`)
      continue
    }
    const leader = await storedBatches(leaderDir, context.topic, log.partition,
      log.highWatermark)
    const end = (leader.at(-1)?.lastOffset ?? -1) + 1
    if (log.highWatermark > 0 && end !== log.highWatermark) {
      problems.push(`partition ${log.partition}: leader ${log.leaderId}'s files end at ${end}, ` +
        `high watermark ${log.highWatermark}`)
    }
    for (const replicaId of log.isr) {
      if (replicaId === log.leaderId) continue
      const dir = context.cluster.broker(replicaId).dataDir
      const replica = dir === undefined
        ? []
        : await storedBatches(dir, context.topic, log.partition, log.highWatermark)
      const difference = firstDifference(leader, replica, log.logStartOffset)
      if (difference !== undefined) {
        problems.push(`partition ${log.partition}: replica ${replicaId} ${difference}`)
      }
      compared++
    }
  }
  return result(`${label}: in-sync replicas identical on disk below the high watermark`,
    problems, `${compared} follower replicas compared with their leaders`)
}

/** Runs the three checks; a check that cannot run (a read fails) is a failed check. */
export async function checkCluster (context: CheckContext, label: string):
Promise<CheckResult[]> {
  let logs: PartitionLog[]
  try {
    logs = []
    for (let partition = 0; partition < context.partitions; partition++) {
      logs.push(await readPartition(context, partition))
    }
  } catch (error) {
    return [{ name: `${label}: read the log back`, ok: false, detail: String(error) }]
  }
  return [
    checkAcknowledged(label, logs, context.workload),
    checkConsumed(label, logs, context.workload),
    await checkReplicaFiles(label, context, logs),
  ]
}
