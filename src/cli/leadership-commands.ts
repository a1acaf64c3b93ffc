/**
 * `tributary topic elect-leaders|reassign|reassignments`: the equivalents of
 * kafka-leader-election.sh and kafka-reassign-partitions.sh, on the ElectLeaders,
 * AlterPartitionReassignments and ListPartitionReassignments APIs. One line per partition;
 * the command exits 1 when any partition was refused (ELECTION_NOT_NEEDED is not a failure,
 * as in kafka-leader-election.sh).
 */
import type { Command } from 'commander'
import type { PartitionAnswer } from '../client/client.js'
import { CliError, formatOf, integerOption, print, withClient } from './output.js'

function parseReplicas (value: string): number[] {
  const replicas = value.split(',').map(item => item.trim())
  if (replicas.length === 0 || replicas.some(item => !/^\d+$/.test(item))) {
    throw new CliError(`--replicas must be broker ids like 2,3,1, got "${value}"`, 2)
  }
  return replicas.map(Number)
}

function answerLine (answer: PartitionAnswer, success: string): string {
  const where = `${answer.topic}-${answer.partition}`
  if (answer.errorName === 'NONE') return `${where}: ${success}`
  return `${where}: ${answer.errorName}${answer.message === null ? '' : ` (${answer.message})`}`
}

/** Prints the answers; fails the command when one of them is a refusal. */
function report (format: unknown, answers: PartitionAnswer[], success: string,
  harmless: readonly string[] = []): void {
  print(formatOf(format), answers, () => answers.length === 0
    ? 'No partition needed it.'
    : answers.map(answer => answerLine(answer, success)).join('\n'))
  const failed = answers.filter(a => a.errorName !== 'NONE' && !harmless.includes(a.errorName))
  if (failed.length > 0) {
    throw new CliError(`${failed.length} of ${answers.length} partition(s) failed`)
  }
}

export function registerLeadershipCommands (topic: Command): void {
  topic.command('elect-leaders').description('elect preferred (or unclean) leaders')
    .option('--topic <name>', 'only this topic (default: every partition)')
    .option('--partition <partition>', 'only this partition of --topic (default: all of it)')
    .option('--type <type>', 'preferred or unclean', 'preferred')
    .action(async (options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const type = options.type as string
      if (type !== 'preferred' && type !== 'unclean') {
        throw new CliError(`--type must be preferred or unclean, got "${type}"`, 2)
      }
      const partition = integerOption('--partition', options.partition)
      if (partition !== undefined && options.topic === undefined) {
        throw new CliError('--partition needs --topic', 2)
      }
      const answers = await withClient(bootstrap, async client => {
        if (options.topic === undefined) return client.electLeaders(type, null)
        const partitions = partition !== undefined
          ? [partition]
          : (await client.metadata([options.topic as string])).topics[0]?.partitions
              .map(p => p.partitionIndex) ?? []
        if (partitions.length === 0) {
          throw new CliError(`topic ${String(options.topic)} does not exist`)
        }
        return client.electLeaders(type, partitions.map(id =>
          ({ topic: options.topic as string, partition: id })))
      })
      report(format, answers, `${type} leader elected`, ['ELECTION_NOT_NEEDED'])
    })
  topic.command('reassign <name>').description('move a partition to other brokers (or cancel)')
    .requiredOption('--partition <partition>', 'the partition (required)')
    .option('--replicas <ids>', 'target brokers, preferred leader first, e.g. 2,3,1 ' +
      '(default: none; give this or --cancel)')
    .option('--cancel', 'cancel the partition\'s reassignment in progress (default: false)')
    .action(async (name: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const partition = integerOption('--partition', options.partition) as number
      if ((options.replicas === undefined) === (options.cancel !== true)) {
        throw new CliError('give either --replicas or --cancel', 2)
      }
      const replicas = options.cancel === true ? null : parseReplicas(options.replicas as string)
      const answers = await withClient(bootstrap, client =>
        client.alterPartitionReassignments([{ topic: name, partition, replicas }]))
      report(format, answers, replicas === null
        ? 'reassignment cancelled'
        : `reassignment to ${replicas.join(',')} started`)
    })
  topic.command('reassignments').description('list the reassignments in progress')
    .action(async (_options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const ongoing = await withClient(bootstrap, client => client.listPartitionReassignments())
      print(formatOf(format), ongoing, () => ongoing.length === 0
        ? 'No reassignment in progress.'
        : ongoing.map(r => `${r.topic}-${r.partition}: Replicas: ${r.replicas.join(',')}\t` +
          `Adding: ${r.addingReplicas.join(',')}\tRemoving: ${r.removingReplicas.join(',')}`)
          .join('\n'))
    })
}
