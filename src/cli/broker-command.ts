/**
 * `tributary broker`: loads the configuration (file < environment < flags), starts the broker
 * in this very process (no wrapper, so signals reach it) and shuts it down cleanly on SIGTERM or
 * SIGINT within the 5 s the contract allows, exiting 0.
 */
import type { Command } from 'commander'
import { ConfigError, loadBrokerConfig } from '../config/index.js'
import { BROKER_CONFIG_BY_NAME } from '../config/schema.js'
import { missingSteadyLoadFlags, tuneV8ForSteadyLoad } from '../io/v8-tuning.js'
import { consoleLogger, SHUTDOWN_BUDGET_MS, startBroker } from '../main.js'
import { installProcessGuards } from '../process-guards.js'
import { LogDirLockedError } from '../storage/log-manager.js'
import { DuplicateBrokerError } from '../cluster/broker-session.js'

/**
 * A flag's help: what it sets, and its default, which is the property's (from the --config
 * file, else a TRIBUTARY_ variable, else the schema), so commander's own default stays unset.
 */
function flagHelp (what: string, property: string): string {
  const definition = BROKER_CONFIG_BY_NAME.get(property)
  // A property without a fixed default says in its doc what decides it.
  const computed = /\(default: ([^)]*)\)/.exec(definition?.doc ?? '')?.[1]
  return `${what} (property ${property}; default: ${definition?.default ?? computed ?? 'unset'})`
}

export function registerBrokerCommand (program: Command): void {
  program.command('broker')
    .description('run a broker in this process (flags override the --config file and ' +
      'TRIBUTARY_ variables)')
    .option('--data-dir <dir>', flagHelp('data directory', 'log.dirs'))
    .option('--host <host>', flagHelp('address to listen on for Kafka and HTTP', 'listeners.host'))
    .option('--port <port>', flagHelp('Kafka listener port, 0 for any free one',
      'listeners.port'))
    .option('--http-port <port>', flagHelp('HTTP listener port, 0 for any free one', 'http.port'))
    .option('--node-id <id>', flagHelp('node id', 'node.id'))
    .option('--advertised-host <host>', flagHelp('host name clients are told to connect to',
      'advertised.host'))
    .option('--etcd <endpoints>', flagHelp('join a cluster: etcd HOST:PORT[,HOST:PORT...]',
      'tributary.etcd.endpoints'))
    .option('--cluster <name>', flagHelp('the cluster\'s name, its etcd key prefix',
      'tributary.cluster.name'))
    .option('--config <file>', 'a .properties file with Kafka property names (default: none)')
    .action(async (flags: Record<string, string | undefined>) => {
      await runBroker(flags)
    })
}

async function runBroker (flags: Record<string, string | undefined>): Promise<void> {
  let config
  try {
    config = await loadBrokerConfig({
      flags: {
        'data-dir': flags.dataDir,
        host: flags.host,
        port: flags.port,
        'http-port': flags.httpPort,
        'node-id': flags.nodeId,
        'advertised-host': flags.advertisedHost,
        etcd: flags.etcd,
        cluster: flags.cluster,
      },
      env: process.env,
      propertiesFile: flags.config,
    })
  } catch (error) {
    if (error instanceof ConfigError) fail(`tributary: ${error.message}`, 2)
    throw error
  }
  tuneV8ForSteadyLoad()
  installProcessGuards(consoleLogger)
  let running
  try {
    running = await startBroker(config.config)
  } catch (error) {
    if (error instanceof LogDirLockedError || error instanceof DuplicateBrokerError) {
      fail(`tributary: ${error.message}`, 1)
    }
    fail(`tributary: broker failed to start: ${(error as Error).stack ?? String(error)}`, 1)
  }
  // Once the broker is up, so that a start that fails stays one line.
  const missing = missingSteadyLoadFlags()
  if (missing.length > 0) {
    consoleLogger.warn(`node was started without ${missing.join(' ')}: under load, latency ` +
      'tails grow (see "Node flags" in docs/operations.md); run bin/tributary.js directly, ' +
      `or \`node ${missing.join(' ')} bin/tributary.js broker\``)
  }
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    consoleLogger.info(`received ${signal}, shutting down`)
    const deadline = setTimeout(() => {
      consoleLogger.error(`shutdown took longer than ${SHUTDOWN_BUDGET_MS} ms; exiting`)
      process.exit(1)
    }, SHUTDOWN_BUDGET_MS + 500)
    running.close().then(() => {
      clearTimeout(deadline)
      consoleLogger.info('shutdown complete')
      process.exit(0)
    }, (error: unknown) => {
      consoleLogger.error(`shutdown failed: ${String(error)}`)
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

function fail (line: string, code: number): never {
  console.error(line.split('\n')[0])
  process.exit(code)
}
