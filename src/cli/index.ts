/**
 * The `tributary` command line: `tributary broker` runs a broker; the other commands are
 * clients of any Kafka-compatible broker (`--bootstrap`).
 */
import { Command, CommanderError } from 'commander'
import { registerBrokerCommand } from './broker-command.js'

export async function main (argv: string[]): Promise<void> {
  const program = new Command('tributary')
    .description('Tributary, a Kafka-compatible commit-log broker')
    .exitOverride()
  registerBrokerCommand(program)
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode)
    console.error(`tributary: ${(error as Error).message}`)
    process.exit(1)
  }
}
