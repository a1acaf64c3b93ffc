/**
 * `tributary broker`: loads the configuration (file < environment < flags), starts the broker
 * in this very process (no wrapper, so signals reach it) and shuts it down cleanly on SIGTERM or
 * SIGINT within the 5 s the contract allows, exiting 0.
 */
import type { Command } from 'commander'
import { ConfigError, loadBrokerConfig } from '../config/index.js'
import { tuneV8ForBroker } from '../io/v8-tuning.js'
import { consoleLogger, SHUTDOWN_BUDGET_MS, startBroker } from '../main.js'
import { installProcessGuards } from '../process-guards.js'
import { LogDirLockedError } from '../storage/log-manager.js'
import { DuplicateBrokerError } from '../cluster/broker-session.js'

export function registerBrokerCommand (program: Command): void {
  program.command('broker')
    .description('run a broker in this process')
    .option('--data-dir <dir>', 'data directory (log.dirs)', undefined)
    .option('--host <host>', 'address to listen on for Kafka and HTTP')
    .option('--port <port>', 'Kafka listener port')
    .option('--http-port <port>', 'HTTP listener port')
    .option('--node-id <id>', 'node id')
    .option('--advertised-host <host>', 'host name clients are told to connect to')
    .option('--etcd <endpoints>', 'join a cluster: etcd HOST:PORT[,HOST:PORT...]')
    .option('--cluster <name>', 'the cluster\'s name (its etcd key prefix; default tributary)')
    .option('--config <file>', 'a .properties file with Kafka property names')
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
  tuneV8ForBroker()
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
