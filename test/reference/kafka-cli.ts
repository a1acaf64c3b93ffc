/**
 * The reference Kafka from a shell (test/reference/kafka.sh runs this):
 *
 *   kafka.sh fetch                      fetch the jars into the cache; print their folder
 *   kafka.sh start [name=value ...]     start a single-node Kafka on free loopback ports with
 *                                       these broker properties; print its bootstrap address;
 *                                       stop it and remove its data on Ctrl-C or SIGTERM
 *   kafka.sh start-cluster [name=value ...]  the same with three KRaft nodes (a quorum of three
 *                                       voters); print the bootstrap list
 */
import { fetchKafka, KAFKA_VERSION, startKafka, startKafkaCluster } from './kafka.js'

function properties (pairs: string[]): Record<string, string> {
  const config: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new Error(`a broker property must be name=value, got "${pair}"`)
    config[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return config
}

async function main (): Promise<void> {
  const [command, ...rest] = process.argv.slice(2)
  if (command === 'fetch') {
    console.log(await fetchKafka())
    return
  }
  if (command === 'start') {
    const kafka = await startKafka({ config: properties(rest) })
    console.log(`Apache Kafka ${KAFKA_VERSION} ready: bootstrap=${kafka.bootstrap} ` +
      `(controller 127.0.0.1:${kafka.controllerPort}, data ${kafka.dataDir}); Ctrl-C stops it`)
    await stopped()
    await kafka.stop()
    return
  }
  if (command === 'start-cluster') {
    const kafka = await startKafkaCluster(3, { config: properties(rest) })
    console.log(`Apache Kafka ${KAFKA_VERSION}, 3 nodes, ready: bootstrap=${kafka.bootstrap} ` +
      `(data ${kafka.nodes.map(node => node.dataDir).join(', ')}); Ctrl-C stops it`)
    await stopped()
    await kafka.stop()
    return
  }
  throw new Error('usage: kafka.sh fetch | kafka.sh start [name=value ...] | ' +
    `kafka.sh start-cluster [name=value ...] (got "${command ?? ''}")`)
}

function stopped (): Promise<void> {
  return new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
}

try {
  await main()
} catch (error) {
  console.error(`kafka: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
