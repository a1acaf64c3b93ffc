/**
 * V8 settings for a process under steady load: the broker and the benchmarks' load generator
 * (whose own mark-compacts otherwise show up as broker latency).
 *
 * Two are read by V8 at each GC, so `tuneV8ForSteadyLoad` sets them at run time:
 *
 * Allocation-site pretenuring off: V8 allocates objects from a site straight into old space
 * once most of them survive a scavenge. A broker's per-request objects do survive one (they
 * wait a millisecond for the group-commit fsync), so V8 pretenured them and then ran a
 * mark-compact every ~100 ms, whose incremental steps took up to 8 ms on the event loop. With
 * pretenuring off those objects die young. Measured on 2 vCPUs at 400 k msg/s (bench
 * `latency`, 4 partitions, fsync before ack): 44 → 2 mark-compacts in 7 s, end-to-end p99
 * 22 ms → 4.3 ms, and no loss of peak produce throughput.
 *
 * Old generation limit at twice what the last mark-compact kept (`--heap-growing-percent`):
 * V8 sizes the next limit from how fast it collects against how fast the program promotes,
 * which for a broker's ~25 MB of live heap gave a limit only ~1.3 times the live size, most of
 * all after an idle spell (its memory reducer). With the limit at twice the live size: 0-1
 * mark-compacts per window instead of 45-52, and an end-to-end p99 of 3.1-4.5 ms instead of
 * 18-21 ms (bench `latency` at 150 k msg/s, 4 partitions, fsync before ack, five windows 3 s
 * apart on one broker, 2 vCPUs). The cost is at most one more live heap's worth of garbage.
 *
 * One is read only when the heap is set up, so it must be on the `node` command line
 * (`STEADY_LOAD_NODE_FLAGS`):
 *
 * Young generation capped at 4 MiB per semi-space (`--max-semi-space-size`, default 16 MiB on
 * 64-bit): every request and response body is a Buffer whose memory lives outside the V8 heap,
 * and V8 counts such memory allocated since the last mark-compact against the old generation's
 * limit. A Buffer that dies young is freed by the next scavenge; but once traffic has grown
 * the young generation to 16 MiB, scavenges come every few hundred ms, the Buffers allocated
 * in between (50 MB/s each way at 465 k msg/s of 100 B) use up the old generation's headroom
 * first, and V8 runs a mark-compact instead, every 150-250 ms: a storm that stays until the
 * load changes. With 4 MiB, scavenges free those Buffers every ~20 ms for about 1 ms each.
 * Measured on 2 vCPUs (bench `latency`, 4 partitions): in the generator at 465 k msg/s,
 * 18-28 mark-compacts per run in two of three runs → 1 in every run; in fresh brokers at
 * 930 k msg/s with fsync before ack, 7-14 → 3 mark-compacts and end-to-end p99 20-23 ms →
 * 11-15 ms (2 MiB: 14-17 ms; 8 MiB: 19-20 ms); closed-loop peak unchanged (1.81-1.95 M
 * msg/s → 1.91-1.96 M). Brokers that had run at their peak first did not storm either way,
 * and paired runs of those show no cost (bench/README.md, "part two").
 */
import v8 from 'node:v8'

/** The old generation may grow to (1 + this / 100) times what the last mark-compact kept. */
const HEAP_GROWING_PERCENT = 100

/**
 * Flags V8 reads only at start-up, for the `node` that runs a broker or the load generator:
 * bin/tributary.js's first line, `npm start`, `npm run bench`, the Dockerfile's entry point and
 * every place this project spawns a broker carry them (test/deploy/node-flags.test.ts checks).
 */
export const STEADY_LOAD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4']

export function tuneV8ForSteadyLoad (): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring')
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}

/**
 * The steady-load flags this process was started without: neither on its command line nor in
 * NODE_OPTIONS. A flag counts by its name, whatever its value (an operator may choose another).
 */
export function missingSteadyLoadFlags (
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)]
    .map(flag => flag.split('=')[0]?.replaceAll('_', '-'))
  return STEADY_LOAD_NODE_FLAGS.filter(flag => !given.includes(flag.split('=')[0]))
}
