/**
 * The `tributary` command line: `tributary broker` runs a broker; the other commands are
 * clients of any Kafka-compatible broker (`--bootstrap`). Every option's help line ends with
 * its default (commander's "(default: ...)", or the same words in the description when the
 * default is decided elsewhere, such as the broker's configuration).
 */
import { readFile } from 'node:fs/promises'
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
import { registerTxnCommand } from './txn-command.js'

/** package.json sits at the repository (or image) root, three levels above dist/src/cli/. */
const PACKAGE_JSON = new URL('../../../package.json', import.meta.url)

export function createProgram (version: string): Command {
  const program = new Command('tributary')
    .description('Tributary, a Kafka-compatible commit-log broker')
    .version(version, '-V, --version', 'print the version and exit')
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
  registerTxnCommand(program)
  return program
}

async function packageVersion (): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(PACKAGE_JSON, 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export async function main (argv: string[]): Promise<void> {
  const program = createProgram(await packageVersion())
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode)
    const message = (error as Error).message.split('\n')[0]
    console.error(`tributary: ${message}`)
    process.exit(error instanceof CliError ? error.exitCode : 1)
  }
}
