/**
 * V8 settings for a process under steady load, applied once at start-up by `tributary broker`
 * and by the benchmarks' load generator (whose own mark-compacts otherwise show up as broker
 * latency). Both are read by V8 at each GC, so setting them at run time takes effect.
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
 * which for a broker's ~25 MB of live heap and its steady trickle of promoted request objects
 * gave a limit only ~1.3 times the live size, most of all after an idle spell (its memory
 * reducer). Every ~8 MB promoted then started another mark-compact: 45-52 of them in each 8 s
 * window at 150 k msg/s, with concurrent marking taking CPU from the event loop, and an
 * end-to-end p99 of 18-21 ms. With the limit at twice the live size: 0-1 mark-compacts per
 * window and a p99 of 3.1-4.5 ms (bench `latency` at 150 k msg/s, 4 partitions, fsync before
 * ack, five windows 3 s apart on one broker, 2 vCPUs). The cost is at most one more live
 * heap's worth of garbage before a collection.
 */
import v8 from 'node:v8'

/** The old generation may grow to (1 + this / 100) times what the last mark-compact kept. */
const HEAP_GROWING_PERCENT = 100

export function tuneV8ForSteadyLoad (): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring')
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}
