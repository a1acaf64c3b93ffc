/**
 * `tributary txn list|describe|abort|find-hanging`, after Kafka's kafka-transactions.sh
 * (KIP-664): `list` and `describe` read the transaction coordinators (ListTransactions,
 * DescribeTransactions); `find-hanging` lists a partition's open transactions older than
 * `--max-transaction-timeout` (DescribeProducers) that no coordinator still runs there; `abort` ends a hanging transaction on one
 * partition by writing an ABORT marker there (WriteTxnMarkers), naming the producer either by
 * the first offset of its transaction (`--start-offset`, looked up with DescribeProducers) or
 * by id, epoch and coordinator epoch, as kafka-transactions.sh accepts.
 */
import type { Command } from 'commander'
import type { KafkaClient } from '../client/client.js'
import { CliError, formatOf, integerOption, print, table, withClient } from './output.js'

/** kafka-transactions.sh find-hanging's default --max-transaction-timeout, in minutes. */
const MAX_TRANSACTION_TIMEOUT_MINUTES = 15

function required (name: string, value: string | undefined, minimum = 0): number {
  const number = integerOption(name, value, minimum)
  if (number === undefined) throw new CliError(`${name} is required`, 2)
  return number
}

/** The producer whose open transaction on the partition starts at `startOffset`. */
async function producerAt (client: KafkaClient, topic: string, partition: number,
  startOffset: number): Promise<{ producerId: number, producerEpoch: number,
    coordinatorEpoch: number }> {
  const producers = await client.describeProducers(topic, partition)
  const found = producers.find(p => p.currentTxnStartOffset === startOffset)
  if (found === undefined) {
    throw new CliError(`no open transaction starts at offset ${startOffset} of ` +
      `${topic}-${partition}`)
  }
  return found
}

function registerList (txn: Command): void {
  txn.command('list').description('list the transactions the coordinators know')
    .option('--state <state...>', 'only these states, e.g. Ongoing (default: all)')
    .option('--producer-id <id...>', 'only these producer ids (default: all)')
    .option('--duration-filter <ms>', 'only transactions running longer than this ' +
      '(default: all)')
    .option('--transactional-id-pattern <regex>', 'only ids matching it (default: all)')
    .action(async (options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const producerIds = ((options.producerId ?? []) as string[])
        .map(id => required('--producer-id', id))
      const durationMs = integerOption('--duration-filter', options.durationFilter)
      const listed = await withClient(bootstrap, client => client.listTransactions({
        states: options.state, producerIds, durationMs, pattern: options.transactionalIdPattern,
      }))
      listed.sort((a, b) => a.transactionalId < b.transactionalId ? -1 : 1)
      print(formatOf(format), listed, () => table(listed.map(t => ({
        'transactional-id': t.transactionalId, 'producer-id': t.producerId,
        'transaction-state': t.transactionState }))))
    })
}

function registerDescribe (txn: Command): void {
  txn.command('describe <transactional-id>').description('one transaction\'s state')
    .action(async (transactionalId: string, _options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const state = await withClient(bootstrap, client =>
        client.describeTransaction(transactionalId))
      const partitions = state.topics.flatMap(t => t.partitions.map(p => `${t.topic}-${p}`))
      const durationMs = state.transactionStartTimeMs < 0
        ? -1
        : Date.now() - state.transactionStartTimeMs
      print(formatOf(format), { ...state, transactionDurationMs: durationMs }, () =>
        table([{ 'transactional-id': state.transactionalId, 'producer-id': state.producerId,
          'producer-epoch': state.producerEpoch, 'transaction-state': state.transactionState,
          'transaction-timeout-ms': state.transactionTimeoutMs,
          'current-transaction-start-time-ms': state.transactionStartTimeMs,
          'transaction-duration-ms': durationMs, 'topic-partitions': partitions.join(',') }]))
    })
}

function registerAbort (txn: Command): void {
  txn.command('abort').description('abort a hanging transaction on one partition')
    .requiredOption('--topic <topic>', 'topic (required)')
    .requiredOption('--partition <partition>', 'partition (required)')
    .option('--start-offset <offset>', 'first offset of the transaction to abort (or give ' +
      '--producer-id, --producer-epoch and --coordinator-epoch; default: none)')
    .option('--producer-id <id>', 'producer id (default: none)')
    .option('--producer-epoch <epoch>', 'producer epoch (default: none)')
    .option('--coordinator-epoch <epoch>', 'coordinator epoch (default: none)')
    .action(async (options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const topic = options.topic as string
      const partition = required('--partition', options.partition)
      const startOffset = integerOption('--start-offset', options.startOffset)
      const byId = options.producerId !== undefined
      if ((startOffset === undefined) === !byId) {
        throw new CliError('give either --start-offset or --producer-id with ' +
          '--producer-epoch and --coordinator-epoch', 2)
      }
      const aborted = await withClient(bootstrap, async client => {
        const producer = startOffset !== undefined
          ? await producerAt(client, topic, partition, startOffset)
          : { producerId: required('--producer-id', options.producerId),
              producerEpoch: required('--producer-epoch', options.producerEpoch),
              coordinatorEpoch: required('--coordinator-epoch', options.coordinatorEpoch, -1) }
        await client.writeTxnMarker(topic, partition, { ...producer, commit: false })
        return { topic, partition, ...producer }
      })
      print(formatOf(format), aborted, () => `Aborted the transaction of producer ` +
        `${aborted.producerId} (epoch ${aborted.producerEpoch}) on ${topic}-${partition}.`)
    })
}

/**
 * The `producerId:epoch` of the transactions the coordinators still run on this partition
 * (Ongoing, with it added): an open transaction there is not hanging, as kafka-transactions.sh
 * find-hanging decides with ListTransactions by producer id and DescribeTransactions.
 */
async function liveTransactions (client: KafkaClient, producerIds: number[], topic: string,
  partition: number): Promise<Set<string>> {
  const live = new Set<string>()
  if (producerIds.length === 0) return live
  for (const listed of await client.listTransactions({ producerIds })) {
    const state = await client.describeTransaction(listed.transactionalId).catch(() => undefined)
    if (state?.transactionState !== 'Ongoing') continue
    const added = state.topics.some(t => t.topic === topic && t.partitions.includes(partition))
    if (added) live.add(`${state.producerId}:${state.producerEpoch}`)
  }
  return live
}

function registerFindHanging (txn: Command): void {
  txn.command('find-hanging').description('open transactions on a partition older than ' +
    'the maximum transaction timeout')
    .requiredOption('--topic <topic>', 'topic (required)')
    .requiredOption('--partition <partition>', 'partition (required)')
    .option('--max-transaction-timeout <minutes>', 'older than this is hanging',
      String(MAX_TRANSACTION_TIMEOUT_MINUTES))
    .action(async (options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const topic = options.topic as string
      const partition = required('--partition', options.partition)
      const maxMs = required('--max-transaction-timeout', options.maxTransactionTimeout) * 60_000
      const nowMs = Date.now()
      const hanging = await withClient(bootstrap, async client => {
        const open = (await client.describeProducers(topic, partition)).filter(p =>
          p.currentTxnStartOffset >= 0 && nowMs - p.lastTimestamp > maxMs)
        const live = await liveTransactions(client, open.map(p => p.producerId), topic, partition)
        return open.filter(p => !live.has(`${p.producerId}:${p.producerEpoch}`))
      })
      const rows = hanging.map(p => ({ topic, partition,
        producerId: p.producerId, producerEpoch: p.producerEpoch,
        coordinatorEpoch: p.coordinatorEpoch, startOffset: p.currentTxnStartOffset,
        lastTimestamp: p.lastTimestamp,
        durationMinutes: Math.floor((nowMs - p.lastTimestamp) / 60_000) }))
      print(formatOf(format), rows, () => rows.length === 0
        ? `No hanging transactions on ${topic}-${partition}.`
        : table(rows.map(h => ({ topic, partition, 'producer-id': h.producerId,
          'producer-epoch': h.producerEpoch, 'coordinator-epoch': h.coordinatorEpoch,
          'start-offset': h.startOffset, 'last-timestamp': h.lastTimestamp,
          'duration-min': h.durationMinutes }))))
    })
}

export function registerTxnCommand (program: Command): void {
  const txn = program.command('txn').description('inspect and abort transactions ' +
    '(kafka-transactions.sh)')
  registerList(txn)
  registerDescribe(txn)
  registerAbort(txn)
  registerFindHanging(txn)
}
