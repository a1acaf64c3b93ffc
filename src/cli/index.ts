/**
 * The `tributary` command line: `tributary broker` runs a broker; the other commands are
 * clients of any Kafka-compatible broker (`--bootstrap`).
 */
import { Command, CommanderError } from 'commander'
import { registerBrokerCommand } from './broker-command.js'
import { registerClusterCommand } from './cluster-command.js'
import { registerConsumeCommand } from './consume-command.js'
import { registerDevClusterCommand } from './dev-cluster-command.js'
import { registerDumpLogCommand } from './dump-log-command.js'
import { registerGroupCommand } from './group-command.js'
import { CliError } from './output.js'
import { registerProduceCommand } from './produce-command.js'
import { registerTopicCommand } from './topic-command.js'

export async function main (argv: string[]): Promise<void> {
  const program = new Command('tributary')
    .description('Tributary, a Kafka-compatible commit-log broker')
    .option('--bootstrap <host:port>', 'broker to talk to (any Kafka-compatible broker)',
      '127.0.0.1:9092')
    .option('--format <format>', 'output: text (tables) or json', 'text')
    .exitOverride()
  registerBrokerCommand(program)
  registerTopicCommand(program)
  registerProduceCommand(program)
  registerConsumeCommand(program)
  registerClusterCommand(program)
  registerDevClusterCommand(program)
  registerDumpLogCommand(program)
  registerGroupCommand(program)
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode)
    const message = (error as Error).message.split('\n')[0]
    console.error(`tributary: ${message}`)
    process.exit(error instanceof CliError ? error.exitCode : 1)
  }
}
