/**
 * Cluster timings on real processes (issue #14's closing numbers), measured, never asserted:
 *
 *   npm run bench:failover -- [--runs 10] [--session-ms 9000]
 *
 * 1. Topic visibility: CreateTopics sent to a broker that is not the controller; the time until
 *    it answers (it answers once its own image has the topic) and until all three brokers'
 *    Metadata show the same partitions.
 * 2. Controller failover: SIGKILL of the active controller's process; the time until both
 *    survivors name the same new controller, and until a CreateTopics through a survivor
 *    succeeds. The killed broker then restarts on its data and rejoins before the next run.
 *
 * Needs `etcd` on PATH (Debian: etcd-server). Prints median and max of each.
 */
import {
  agreedView, createTopicOn, describeTopic, eventually, metadataFrom, startCluster,
  type TestCluster,
} from '../test/support/cluster-process.js'

function option (name: string, fallback: number): number {
  const index = process.argv.indexOf(name)
  return index < 0 ? fallback : Number(process.argv[index + 1])
}

function summary (label: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b)
  const median = sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2] as number
    : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2
  return `${label}: median ${median.toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms ` +
    `(n=${values.length}: ${values.map(v => v.toFixed(0)).join(' ')})`
}

async function topicVisibility (cluster: TestCluster, run: number):
Promise<{ answered: number, everywhere: number }> {
  const { controllerId } = await eventually('a controller', () => agreedView(cluster, [1, 2, 3]))
  const via = [1, 2, 3].find(id => id !== controllerId) as number
  const name = `visible-${run}`
  const started = performance.now()
  const result = await createTopicOn(cluster, via, name, 3, 1)
  if (result !== 'NONE') throw new Error(`CreateTopics ${name}: ${result}`)
  const answered = performance.now() - started
  await eventually('the topic everywhere', async () => {
    const views = await Promise.all([1, 2, 3].map(async id =>
      describeTopic(await metadataFrom(cluster, id, [name]), name)))
    return views.every(view => view !== undefined && view === views[0]) ? true : undefined
  }, 30_000)
  return { answered, everywhere: performance.now() - started }
}

async function failover (cluster: TestCluster, run: number):
Promise<{ elected: number, adminWorks: number }> {
  const { controllerId } = await eventually('a controller',
    () => agreedView(cluster, [1, 2, 3]), 60_000)
  const survivors = [1, 2, 3].filter(id => id !== controllerId)
  const killed = performance.now()
  await cluster.brokers.get(controllerId)?.kill()
  await eventually('a new controller', async () => {
    const view = await agreedView(cluster, survivors)
    return view !== undefined && view.controllerId !== controllerId ? view : undefined
  }, 60_000)
  const elected = performance.now() - killed
  await eventually('admin works again', async () =>
    await createTopicOn(cluster, survivors[0] as number, `after-failover-${run}`, 1, 1) ===
      'NONE' ? true : undefined, 60_000)
  const adminWorks = performance.now() - killed
  await cluster.startNode(controllerId)
  await eventually('three brokers again', () => agreedView(cluster, [1, 2, 3]), 60_000)
  return { elected, adminWorks }
}

async function main (): Promise<void> {
  const runs = option('--runs', 10)
  const sessionMs = option('--session-ms', 9_000)
  const cluster = await startCluster(3, sessionMs)
  try {
    const answered: number[] = []
    const everywhere: number[] = []
    for (let run = 0; run < runs; run++) {
      const timing = await topicVisibility(cluster, run)
      answered.push(timing.answered)
      everywhere.push(timing.everywhere)
    }
    const elected: number[] = []
    const adminWorks: number[] = []
    for (let run = 0; run < runs; run++) {
      const timing = await failover(cluster, run)
      elected.push(timing.elected)
      adminWorks.push(timing.adminWorks)
      console.log(`failover run ${run + 1}/${runs}: new controller after ` +
        `${timing.elected.toFixed(0)} ms, admin after ${timing.adminWorks.toFixed(0)} ms`)
    }
    console.log(`3 brokers, broker.session.timeout.ms=${sessionMs}`)
    console.log(summary('CreateTopics answered by a non-controller broker', answered))
    console.log(summary('topic visible on all 3 brokers', everywhere))
    console.log(summary('failover: new controller agreed after SIGKILL', elected))
    console.log(summary('failover: CreateTopics succeeds again after SIGKILL', adminWorks))
  } finally {
    await cluster.stop()
  }
}

await main()
