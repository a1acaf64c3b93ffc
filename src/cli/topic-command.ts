/**
 * `tributary topic list|create|describe|alter-config|add-partitions|delete|delete-records`
 * (and elect-leaders, reassign, reassignments: leadership-commands.ts).
 * `describe` prints Kafka's own field names (`Topic: Partition: Leader: Replicas: Isr:`), as
 * kafka-topics.sh does, so habits and grep scripts carry over; so do its report options
 * (`--under-replicated-partitions`, `--unavailable-partitions`, `--under-min-isr-partitions`,
 * `--at-min-isr-partitions`), which print only the partitions they select.
 */
import type { Command } from 'commander'
import { RESOURCE_TYPE_TOPIC, type KafkaClient, type TopicMetadata } from '../client/client.js'
import { KafkaClientError } from '../client/errors.js'
import { registerLeadershipCommands } from './leadership-commands.js'
import {
  CliError, formatOf, integerOption, print, table, withClient, type Format,
} from './output.js'
import { partitionStates, type PartitionState } from './partition-report.js'

function parseConfigs (pairs: string[]): Record<string, string> {
  const configs: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new CliError(`--config must be name=value, got "${pair}"`, 2)
    configs[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return configs
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

export function registerTopicCommand (program: Command): void {
  const topic = program.command('topic').description('manage topics')
  topic.command('list').description('list topics')
    .action(async (_options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const metadata = await withClient(bootstrap, client => client.metadata())
      const topics = metadata.topics.map(t => ({ topic: t.name, partitions: t.partitions.length,
        internal: t.isInternal })).sort((a, b) => String(a.topic).localeCompare(String(b.topic)))
      print(formatOf(format), topics, () => topics.map(t => t.topic).join('\n'))
    })
  topic.command('create <name>').description('create a topic')
    .option('--partitions <count>', 'number of partitions (default: the broker\'s)')
    .option('--replication-factor <count>', 'replication factor (default: the broker\'s)')
    .option('--config <name=value>', 'topic config (repeatable)', collect, [])
    .action(async (name: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      await withClient(bootstrap, client => client.createTopic(name, {
        partitions: integerOption('--partitions', options.partitions, 1),
        replicationFactor: integerOption('--replication-factor', options.replicationFactor, 1),
        configs: parseConfigs(options.config),
      }))
      print(formatOf(format), { created: name }, () => `Created topic ${name}.`)
    })
  topic.command('describe [name]')
    .description('partitions, leaders, replicas and configs (all topics without a name)')
    .option('--under-replicated-partitions', 'only partitions whose ISR is smaller than their ' +
      'replicas', false)
    .option('--unavailable-partitions', 'only partitions without a live leader', false)
    .option('--under-min-isr-partitions', 'only partitions with fewer in-sync replicas than ' +
      'min.insync.replicas, or no leader', false)
    .option('--at-min-isr-partitions', 'only partitions with exactly min.insync.replicas in sync',
      false)
    .action(async (name: string | undefined, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const filter = partitionFilter(options)
      if (filter !== undefined) {
        await describeFiltered(bootstrap, formatOf(format), name, filter)
        return
      }
      const described = await withClient(bootstrap, async client => {
        // One Metadata answer for every topic described (all of them: one request in all).
        const found = (await client.metadata(name === undefined ? null : [name])).topics
          .filter(t => t.name !== null)
          .sort((a, b) => (a.name as string) < (b.name as string) ? -1 : 1)
        if (name !== undefined && found.length === 0) {
          throw new CliError(`topic ${name} does not exist`)
        }
        const topics = []
        for (const metadata of found) topics.push(await describeOne(client, metadata))
        return topics
      })
      if (name !== undefined) {
        const one = described[0] as DescribedTopic
        print(formatOf(format), one, () => describedText(one))
      } else {
        print(formatOf(format), described, () => described.map(describedText).join('\n'))
      }
    })
  topic.command('alter-config <name>').description('set or delete topic configs')
    .option('--set <name=value>', 'set a config (repeatable)', collect, [])
    .option('--delete <name>', 'remove an override (repeatable)', collect, [])
    .action(async (name: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const changes: Record<string, string | null> = parseConfigs(options.set)
      for (const key of options.delete as string[]) changes[key] = null
      if (Object.keys(changes).length === 0) throw new CliError('give --set or --delete', 2)
      await withClient(bootstrap, client => client.alterTopicConfigs(name, changes))
      print(formatOf(format), { altered: name, changes }, () => `Altered configs of ${name}.`)
    })
  topic.command('add-partitions <name>').description('grow a topic to --count partitions')
    .requiredOption('--count <count>', 'the new total number of partitions (required)')
    .action(async (name: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const count = integerOption('--count', options.count, 1) as number
      await withClient(bootstrap, client => client.createPartitions(name, count))
      print(formatOf(format), { topic: name, partitions: count },
        () => `Topic ${name} now has ${count} partitions.`)
    })
  topic.command('delete <name>').description('delete a topic')
    .action(async (name: string, _options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      await withClient(bootstrap, client => client.deleteTopic(name))
      print(formatOf(format), { deleted: name }, () => `Deleted topic ${name}.`)
    })
  topic.command('delete-records <name>').description('delete records below an offset')
    .requiredOption('-p, --partition <partition>', 'partition (required)')
    .requiredOption('--offset <offset>', 'new log start offset, -1 for the high watermark ' +
      '(required)')
    .action(async (name: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const partition = integerOption('--partition', options.partition) as number
      const offset = Number(options.offset)
      if (!Number.isSafeInteger(offset) || offset < -1) {
        throw new CliError(`--offset must be an offset or -1, got "${String(options.offset)}"`, 2)
      }
      const low = await withClient(bootstrap, async client => {
        try {
          return await client.deleteRecords(name, partition, offset)
        } catch (error) {
          throw await explainDeleteRecords(client, name, partition, offset, error)
        }
      })
      print(formatOf(format), { topic: name, partition, lowWatermark: low },
        () => table([{ topic: name, partition, low_watermark: low }]))
    })  // elect-leaders, reassign, reassignments (leadership-commands.ts).
  registerLeadershipCommands(topic)
}

/**
 * DeleteRecords answers a bare OFFSET_OUT_OF_RANGE (its response has no message field, in Kafka
 * too), so the CLI looks up the partition's range and says what would have been accepted.
 */
async function explainDeleteRecords (client: KafkaClient, topic: string, partition: number,
  offset: number, error: unknown): Promise<unknown> {
  if (!(error instanceof KafkaClientError) || error.errorName !== 'OFFSET_OUT_OF_RANGE') {
    return error
  }
  try {
    const start = (await client.listOffsets(topic, partition, -2)).offset
    const end = (await client.listOffsets(topic, partition, -1)).offset
    return new CliError(`offset ${offset} is out of range for ${topic}-${partition}: ` +
      `records can be deleted below an offset from ${start} (the log start offset) to ${end} ` +
      '(the high watermark), or -1 for the high watermark')
  } catch {
    return error
  }
}

interface DescribedTopic {
  topic: string
  cleanupPolicy: string
  partitions: (TopicMetadata['partitions'][number] & { logStartOffset: number })[]
  configs: { name: string, value: string | null, source: number, readOnly: boolean }[]
}

async function describeOne (client: KafkaClient, found: TopicMetadata):
Promise<DescribedTopic> {
  const name = found.name as string
  if (found.errorCode !== 0) throw new CliError(`topic ${name} does not exist`)
  // The log start offset (ListOffsets earliest) moves with retention and DeleteRecords.
  const logStartOffsets = new Map<number, number>()
  for (const p of found.partitions) {
    const earliest = await client.listOffsets(name, p.partitionIndex, -2)
      .catch(() => ({ offset: -1 }))
    logStartOffsets.set(p.partitionIndex, earliest.offset)
  }
  const configs = await client.describeConfigs(RESOURCE_TYPE_TOPIC, name)
  const cleanupPolicy = configs.find(config => config.name === 'cleanup.policy')?.value ??
    'delete'
  // In partition order whatever order the broker answered in (0, 1, 2, ..., 10).
  const partitions = [...found.partitions]
    .sort((a, b) => a.partitionIndex - b.partitionIndex)
    .map(p => ({ ...p, logStartOffset: logStartOffsets.get(p.partitionIndex) ?? -1 }))
  return { topic: name, cleanupPolicy, partitions, configs }
}

function describedText (described: DescribedTopic): string {
  const { topic: name, partitions, cleanupPolicy: policy } = described
  const overrides = described.configs.filter(config => config.source === 1)
  return [
    `Topic: ${name}\tPartitionCount: ${partitions.length}\tReplicationFactor: ` +
    `${partitions[0]?.replicaNodes.length ?? 0}\tCleanupPolicy: ${policy}\t` +
    'Configs: ' + overrides.map(config => `${config.name}=${config.value ?? ''}`).join(','),
    ...partitions.map(p => `\tTopic: ${name}\tPartition: ${p.partitionIndex}\t` +
      `Leader: ${p.leaderId}\tReplicas: ${p.replicaNodes.join(',')}\t` +
      `Isr: ${p.isrNodes.join(',')}\tLogStartOffset: ${p.logStartOffset}`),
  ].join('\n')
}

type PartitionFilter = (state: PartitionState) => boolean

/**
 * kafka-topics.sh --describe's report options (TopicCommand.PartitionDescription): at most one;
 * --under-min-isr-partitions also lists partitions without a leader, as Kafka's does.
 */
function partitionFilter (options: Record<string, unknown>): PartitionFilter | undefined {
  const filters: [string, PartitionFilter][] = [
    ['underReplicatedPartitions', s => s.health.underReplicated],
    ['unavailablePartitions', s => s.health.unavailable],
    ['underMinIsrPartitions', s => s.health.unavailable || s.health.underMinIsr],
    ['atMinIsrPartitions', s => s.health.atMinIsr],
  ]
  const chosen = filters.filter(([option]) => options[option] === true)
  if (chosen.length > 1) {
    throw new CliError('give only one of --under-replicated-partitions, ' +
      '--unavailable-partitions, --under-min-isr-partitions, --at-min-isr-partitions', 2)
  }
  return chosen[0]?.[1]
}

/** Only the partitions a report option selects, one line each (as kafka-topics.sh prints). */
async function describeFiltered (bootstrap: string, format: Format, name: string | undefined,
  filter: PartitionFilter): Promise<void> {
  const states = await withClient(bootstrap, async client => {
    try {
      return await partitionStates(client, name === undefined ? null : [name])
    } catch (error) {
      if (error instanceof KafkaClientError && error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION') {
        throw new CliError(`topic ${String(name)} does not exist`)
      }
      throw error
    }
  })
  const selected = states.filter(filter)
  print(format, selected.map(s => ({ topic: s.topic, partition: s.partition, leader: s.leader,
    replicas: s.replicas, isr: s.isr, minIsr: s.minIsr })), () => selected.map(s =>
    `\tTopic: ${s.topic}\tPartition: ${s.partition}\tLeader: ${s.leader}\t` +
    `Replicas: ${s.replicas.join(',')}\tIsr: ${s.isr.join(',')}\tMinIsr: ${s.minIsr}`)
    .join('\n'))
}
