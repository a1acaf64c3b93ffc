/**
 * `tributary group list|describe|delete|delete-offsets|reset-offsets`, after Kafka's
 * kafka-consumer-groups.sh: `describe` prints its columns (GROUP TOPIC PARTITION
 * CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID) and a TOTAL-LAG line;
 * `reset-offsets` shows the plan and applies it only with `--execute`, and only for a group
 * with no active members (as Kafka requires).
 */
import type { Command } from 'commander'
import type { KafkaClient } from '../client/client.js'
import { Reader } from '../protocol/reader.js'
import { CliError, formatOf, integerOption, print, table, withClient } from './output.js'

/** ConsumerProtocolAssignment: version int16, [topic string, [partition int32]], user data. */
function decodeAssignment (bytes: Buffer): { topic: string, partitions: number[] }[] {
  if (bytes.length < 2) return []
  try {
    const reader = new Reader(bytes)
    reader.int16()
    return reader.arrayOf(false, r => ({ topic: r.string(), partitions: r.int32ArrayOf(false) }))
  } catch {
    return []
  }
}

interface LagRow {
  group: string, topic: string, partition: number, 'current-offset': number | string,
  'log-end-offset': number, lag: number | string, 'consumer-id': string, host: string,
  'client-id': string
}

async function lagRows (client: KafkaClient, groupId: string): Promise<LagRow[]> {
  const group = await client.describeGroup(groupId)
  const committed = await client.fetchGroupOffsets(groupId)
  const owners = new Map<string, { memberId: string, clientHost: string, clientId: string }>()
  for (const member of group.members) {
    for (const { topic, partitions } of decodeAssignment(member.memberAssignment)) {
      for (const partition of partitions) owners.set(`${topic}:${partition}`, member)
    }
  }
  const keys = new Set([...owners.keys()])
  for (const [topic, partitions] of committed) {
    for (const partition of partitions.keys()) keys.add(`${topic}:${partition}`)
  }
  const rows: LagRow[] = []
  // By topic, then partition as a number (0, 1, 2, ..., 10), as kafka-consumer-groups.sh sorts.
  const sorted = [...keys].map(key => {
    const at = key.lastIndexOf(':')
    return { key, topic: key.slice(0, at), partition: Number(key.slice(at + 1)) }
  }).sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)
  for (const { key, topic, partition } of sorted) {
    const end = (await client.listOffsets(topic, partition, -1)).offset
    const current = committed.get(topic)?.get(partition)
    const owner = owners.get(key)
    rows.push({ group: groupId, topic, partition, 'current-offset': current ?? '-',
      'log-end-offset': end, lag: current === undefined ? '-' : end - current,
      'consumer-id': owner?.memberId ?? '-', host: owner?.clientHost ?? '-',
      'client-id': owner?.clientId ?? '-' })
  }
  return rows
}

async function resetTarget (client: KafkaClient, topic: string, partition: number,
  options: Record<string, unknown>): Promise<number> {
  if (options.toEarliest === true) return (await client.listOffsets(topic, partition, -2)).offset
  if (options.toLatest === true) return (await client.listOffsets(topic, partition, -1)).offset
  if (options.toOffset !== undefined) {
    return integerOption('--to-offset', options.toOffset as string) as number
  }
  const when = Date.parse(String(options.toDatetime))
  if (Number.isNaN(when)) throw new CliError(`--to-datetime: cannot parse "${String(options.toDatetime)}"`, 2)
  const found = await client.listOffsets(topic, partition, when)
  return found.offset >= 0 ? found.offset : (await client.listOffsets(topic, partition, -1)).offset
}

export function registerGroupCommand (program: Command): void {
  const group = program.command('group').description('manage consumer groups')
  group.command('list').description('list consumer groups')
    .action(async (_options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const groups = await withClient(bootstrap, client => client.listGroups())
      print(formatOf(format), groups, () => groups.map(g => g.groupId).sort().join('\n'))
    })
  group.command('describe <group>').description('members, offsets and lag per partition')
    .action(async (groupId: string, _options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const rows = await withClient(bootstrap, client => lagRows(client, groupId))
      const totalLag = rows.reduce((sum, row) => sum + (typeof row.lag === 'number' ? row.lag : 0), 0)
      print(formatOf(format), { group: groupId, partitions: rows, totalLag }, () =>
        `${table(rows as unknown as Record<string, unknown>[])}\nTOTAL-LAG: ${totalLag}`)
    })
  group.command('delete <group>').description('delete an inactive group and its offsets')
    .action(async (groupId: string, _options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      await withClient(bootstrap, client => client.deleteGroup(groupId))
      print(formatOf(format), { deleted: groupId }, () => `Deleted group ${groupId}.`)
    })
  group.command('delete-offsets <group>').description('delete committed offsets of a topic')
    .requiredOption('--topic <topic>', 'topic (required)')
    .option('-p, --partition <partition>', 'only this partition (default: all partitions)')
    .action(async (groupId: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const only = integerOption('--partition', options.partition)
      await withClient(bootstrap, async client => {
        const committed = (await client.fetchGroupOffsets(groupId)).get(options.topic) ??
          new Map<number, number>()
        const partitions = [...committed.keys()].filter(p => only === undefined || p === only)
        if (partitions.length === 0) throw new CliError(`group ${groupId} has no offsets for ${options.topic}`)
        await client.deleteGroupOffsets(groupId, partitions.map(partition =>
          ({ topic: options.topic, partition })))
      })
      print(formatOf(format), { group: groupId, topic: options.topic }, () =>
        `Deleted offsets of ${options.topic} for group ${groupId}.`)
    })
  group.command('reset-offsets <group>').description('move a group\'s committed offsets')
    .requiredOption('--topic <topic>', 'topic (required)')
    // Exactly one target is required (checked below), so none has a default.
    .option('--to-earliest', 'to the log start (default: off; give exactly one --to-*)')
    .option('--to-latest', 'to the log end (default: off)')
    .option('--to-offset <offset>', 'to this offset (default: off)')
    .option('--to-datetime <datetime>', 'to the first offset at or after this time, ISO 8601 ' +
      '(default: off)')
    .option('--execute', 'apply the plan (without it, only show it)', false)
    .action(async (groupId: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const targets = ['toEarliest', 'toLatest', 'toOffset', 'toDatetime']
        .filter(name => options[name] !== undefined)
      if (targets.length !== 1) {
        throw new CliError('give exactly one of --to-earliest, --to-latest, --to-offset, ' +
          '--to-datetime', 2)
      }
      const plan = await withClient(bootstrap, async client => {
        const state = await client.describeGroup(groupId).catch(() => undefined)
        if (state !== undefined && state.members.length > 0) {
          throw new CliError(`group ${groupId} has active members: stop them first`)
        }
        const metadata = await client.metadata([options.topic])
        const topic = metadata.topics[0]
        if (topic === undefined || topic.errorCode !== 0) {
          throw new CliError(`topic ${options.topic} does not exist`)
        }
        const entries = []
        const partitions = [...topic.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)
        for (const p of partitions) {
          entries.push({ topic: options.topic as string, partition: p.partitionIndex,
            offset: await resetTarget(client, options.topic, p.partitionIndex, options) })
        }
        if (options.execute === true) await client.commitGroupOffsets(groupId, entries)
        return entries
      })
      print(formatOf(format), { group: groupId, executed: options.execute === true, plan }, () =>
        `${table(plan.map(e => ({ group: groupId, topic: e.topic, partition: e.partition,
          'new-offset': e.offset })))}${options.execute === true ? '' : '\n(dry run: add --execute)'}`)
    })
}
