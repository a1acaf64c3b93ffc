/**
 * Consumer-group lag for the metrics: per group and partition, the high watermark minus the
 * committed offset, and how old the oldest unconsumed record is (now minus the timestamp of
 * the batch holding the committed offset). Computed in the background every REFRESH_MS, since
 * the age needs a log read and a Prometheus scrape must not wait on the disk.
 */
import type { GroupLagSample } from '../metrics/metrics.js'
import type { TimerHandle } from '../io/clock.js'
import type { Broker } from './broker.js'

const REFRESH_MS = 5000
/** Samples kept at most (groups × partitions); past this, the rest is left out. */
const SAMPLES_MAX = 100_000

export class GroupLagSampler {
  readonly #broker: Broker
  #samples: GroupLagSample[] = []
  #timer: TimerHandle | undefined

  constructor (broker: Broker) {
    this.#broker = broker
  }

  samples (): readonly GroupLagSample[] {
    return this.#samples
  }

  async refresh (): Promise<void> {
    const groups = this.#broker.groups
    if (groups === undefined) return
    const nowMs = this.#broker.clock.nowMs()
    const samples: GroupLagSample[] = []
    for (const { groupId } of groups.listGroups()) {
      for (const [key, committed] of groups.fetchOffsets(groupId)) {
        if (samples.length >= SAMPLES_MAX) break
        const [topic, partitionText] = key.split('\u0000') as [string, string]
        const partition = Number(partitionText)
        const log = this.#broker.replicaManager.log(topic, partition)
        if (log === undefined) continue
        const lag = Math.max(0, this.#broker.replicaManager.highWatermark(log) - committed.offset)
        let lagSeconds = 0
        if (lag > 0 && committed.offset >= log.logStartOffset) {
          const { records } = await log.read(committed.offset, 1, { minOneBatch: true })
            .catch(() => ({ records: Buffer.alloc(0) }))
          if (records.length >= 61) {
            const timestamp = Number(records.readBigInt64BE(27))
            lagSeconds = Math.max(0, (nowMs - timestamp) / 1000)
          }
        }
        samples.push({ group: groupId, topic, partition, lag, lagSeconds })
      }
    }
    this.#samples = samples
  }

  start (): void {
    const tick = (): void => {
      void this.refresh().catch(() => undefined).finally(() => {
        this.#timer = this.#broker.clock.setTimer(REFRESH_MS, tick)
      })
    }
    this.#timer = this.#broker.clock.setTimer(REFRESH_MS, tick)
  }

  stop (): void {
    this.#timer?.cancel()
  }
}
