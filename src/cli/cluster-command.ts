/**
 * `tributary cluster info` (brokers with listener, rack, state and which one is the
 * controller; topic count) and `tributary cluster health`:
 * exit 0 when a broker answers Metadata with itself and the controller listed and no partition
 * is offline or under min ISR (issue #15), exit 3 while not (the compose healthcheck and CI
 * waits rely on that code). `--exit-when-healthy` keeps trying until
 * healthy or `--timeout` ms pass.
 */
import type { Command } from 'commander'
import type { KafkaClient } from '../client/client.js'
import { CliError, formatOf, integerOption, print, table, withClient } from './output.js'
import { partitionList, partitionStatesOf } from './partition-report.js'

export const UNHEALTHY_EXIT_CODE = 3

export function registerClusterCommand (program: Command): void {
  const cluster = program.command('cluster').description('cluster information')
  cluster.command('info').description('brokers, controller and topic count')
    .action(async (_options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const metadata = await withClient(bootstrap, client => client.metadata())
      const info = {
        clusterId: metadata.clusterId,
        controller: metadata.controllerId,
        brokers: metadata.brokers,
        topics: metadata.topics.length,
      }
      print(formatOf(format), info, () => [
        `Cluster: ${metadata.clusterId ?? ''}  Controller: ${metadata.controllerId}  ` +
        `Topics: ${metadata.topics.length}`,
        // Metadata lists live (unfenced) brokers only, as Kafka's does.
        table(metadata.brokers.map(b => ({ id: b.nodeId, host: b.host, port: b.port,
          rack: b.rack ?? '', state: 'live',
          controller: b.nodeId === metadata.controllerId ? 'yes' : '' }))),
      ].join('\n'))
    })
  cluster.command('health').description(`exit 0 if healthy, ${UNHEALTHY_EXIT_CODE} if not`)
    .option('--exit-when-healthy', 'wait until the cluster is healthy', false)
    .option('--timeout <ms>', 'how long --exit-when-healthy waits', '60000')
    .action(async (options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
      const timeoutMs = integerOption('--timeout', options.timeout) as number
      const deadline = Date.now() + timeoutMs
      let problem = ''
      for (;;) {
        try {
          const healthy = await withClient(bootstrap, checkHealth)
          if (typeof healthy !== 'string') {
            print(formatOf(format), { healthy: true, ...healthy },
              () => `healthy: ${healthy.brokers} broker(s), ${healthy.partitions} partition(s)`)
            return
          }
          problem = healthy
        } catch (error) {
          problem = (error as Error).message
        }
        if (options.exitWhenHealthy !== true || Date.now() >= deadline) {
          throw new CliError(`unhealthy: ${problem}`, UNHEALTHY_EXIT_CODE)
        }
        await new Promise(resolve => setTimeout(resolve, 500))
      }
    })
}

/**
 * Healthy: a broker answers Metadata listing itself and the controller, and no partition is
 * offline (no live leader) or under min ISR (acks=all refused). Else one line naming the first
 * bad partitions and the counts.
 */
async function checkHealth (client: KafkaClient):
Promise<{ brokers: number, partitions: number } | string> {
  const metadata = await client.metadata(null)
  if (metadata.brokers.length === 0 ||
    !metadata.brokers.some(b => b.nodeId === metadata.controllerId)) {
    return 'no controller among the brokers'
  }
  const states = await partitionStatesOf(client, metadata)
  const offline = states.filter(s => s.health.unavailable)
  const underMinIsr = states.filter(s => !s.health.unavailable && s.health.underMinIsr)
  const problems: string[] = []
  if (offline.length > 0) {
    problems.push(`${offline.length} offline partition(s) (${partitionList(offline)})`)
  }
  if (underMinIsr.length > 0) {
    problems.push(`${underMinIsr.length} partition(s) under min ISR ` +
      `(${partitionList(underMinIsr)})`)
  }
  if (problems.length > 0) return problems.join('; ')
  return { brokers: metadata.brokers.length, partitions: states.length }
}
