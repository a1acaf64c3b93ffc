/**
 * The group-commit flusher shared by every partition of a LogManager (TigerStyle: "run at its
 * own pace ... you get to batch"). Appends mark their log dirty; one round writes every dirty
 * log's pending batches and fdatasyncs their files in parallel, then acknowledges them all.
 * Appends that arrive during a round wait for the next, so under load one fsync covers many
 * produce requests across all partitions, and durability costs latency, not throughput.
 *
 * A relaxed-mode timer (flush.ms) also runs rounds so that fsyncs happen without new appends.
 */
import type { Clock, TimerHandle } from '../io/clock.js'
import type { Flusher, PartitionLog } from './partition-log.js'

export class GroupCommitFlusher implements Flusher {
  readonly #dirty = new Set<PartitionLog>()
  readonly #clock: Clock
  #running: Promise<void> | undefined
  #timer: TimerHandle | undefined
  rounds = 0

  constructor (clock: Clock) {
    this.#clock = clock
  }

  markDirty (log: PartitionLog): void {
    this.#dirty.add(log)
    this.#running ??= this.#run()
  }

  async #run (): Promise<void> {
    // Let the current burst of appends (this tick's produce requests) join the round.
    await new Promise<void>(resolve => setImmediate(resolve))
    try {
      while (this.#dirty.size > 0) {
        const logs = [...this.#dirty]
        this.#dirty.clear()
        this.rounds++
        await Promise.all(logs.map(log => log.flushRound()))
      }
    } finally {
      this.#running = undefined
    }
  }

  /** Periodic rounds for relaxed-mode logs (flush.ms); `logs` is read at each tick. */
  startPeriodic (intervalMs: number, logs: () => Iterable<PartitionLog>): void {
    const tick = (): void => {
      for (const log of logs()) if (!log.config.fsyncBeforeAck) this.markDirty(log)
      this.#timer = this.#clock.setTimer(intervalMs, tick)
    }
    this.#timer = this.#clock.setTimer(intervalMs, tick)
  }

  /** Waits for the round in progress; used by a clean shutdown. */
  async idle (): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  stop (): void {
    this.#timer?.cancel()
  }
}
