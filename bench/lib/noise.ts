/**
 * How quiet the machine is right before a run, recorded with its results: on a shared VM the
 * same command varies by more than the changes being measured, and these numbers say which
 * runs can be compared. For one second with nothing else of ours running: the delay of a 1 ms
 * timer (what every event loop pays) and the CPU time the hypervisor took (steal, from
 * /proc/stat); then 200 writes of 16 KiB, each followed by fdatasync, in the data directory
 * (the disk's group-commit cost).
 */
import { readFile, open, rm } from 'node:fs/promises'
import path from 'node:path'

export interface NoiseProbe {
  timerDelayP99Ms: number
  timerDelayMaxMs: number
  /** Share of CPU time stolen by the hypervisor during the probe; absent off Linux. */
  stealPercent?: number
  fsyncP50Ms: number
  fsyncP99Ms: number
}

const PROBE_MS = 1000
const FSYNCS = 200
const FSYNC_BYTES = 16 * 1024

export async function probeNoise (dataDir: string): Promise<NoiseProbe> {
  const before = await cpuTimes()
  const delays: number[] = []
  await new Promise<void>(resolve => {
    let last = performance.now()
    const started = last
    const timer = setInterval(() => {
      const now = performance.now()
      delays.push(now - last - 1)
      last = now
      if (now - started >= PROBE_MS) {
        clearInterval(timer)
        resolve()
      }
    }, 1)
  })
  const after = await cpuTimes()
  const file = path.join(dataDir, '.noise-probe')
  const handle = await open(file, 'w')
  const syncs: number[] = []
  try {
    const buffer = Buffer.alloc(FSYNC_BYTES, 1)
    for (let i = 0; i < FSYNCS; i++) {
      const started = performance.now()
      await handle.write(buffer, 0, buffer.length, i * buffer.length)
      await handle.datasync()
      syncs.push(performance.now() - started)
    }
  } finally {
    await handle.close()
    await rm(file, { force: true })
  }
  const steal = before !== undefined && after !== undefined && after.total > before.total
    ? { stealPercent: round(100 * (after.steal - before.steal) / (after.total - before.total)) }
    : {}
  return {
    timerDelayP99Ms: round(quantile(delays, 0.99)),
    timerDelayMaxMs: round(Math.max(0, ...delays)),
    ...steal,
    fsyncP50Ms: round(quantile(syncs, 0.5)),
    fsyncP99Ms: round(quantile(syncs, 0.99)),
  }
}

export function describeNoise (noise: NoiseProbe): string {
  return `idle 1 ms timer late by p99 ${noise.timerDelayP99Ms} ms, max ` +
    `${noise.timerDelayMaxMs} ms${noise.stealPercent === undefined ? ''
      : `, steal ${noise.stealPercent} %`}; 16 KiB write + fdatasync p50 ${noise.fsyncP50Ms} ms, ` +
    `p99 ${noise.fsyncP99Ms} ms`
}

export interface CpuTimes {
  total: number
  idle: number
  steal: number
}

/** The aggregate `cpu` line of /proc/stat: all jiffies, the idle ones (with iowait), the stolen. */
export async function cpuTimes (): Promise<CpuTimes | undefined> {
  const stat = await readFile('/proc/stat', 'utf8').catch(() => undefined)
  const fields = stat?.split('\n')[0]?.split(/\s+/).slice(1).map(Number)
  if (fields === undefined || fields.length < 8 || fields.some(Number.isNaN)) return undefined
  return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0),
    idle: (fields[3] as number) + (fields[4] as number), steal: fields[7] as number }
}

/**
 * The whole machine between two readings: the share of all CPUs' time that was busy (neither
 * idle nor stolen), and the share the hypervisor took (steal): a stall of every process at
 * once with steal is the host's, without it the kernel's.
 */
export function machineUse (before: CpuTimes | undefined, after: CpuTimes | undefined):
  { busyPercent: number, stealPercent: number } | undefined {
  if (before === undefined || after === undefined || after.total <= before.total) return undefined
  const total = after.total - before.total
  const steal = after.steal - before.steal
  return { busyPercent: round(100 * (total - (after.idle - before.idle) - steal) / total),
    stealPercent: round(100 * steal / total) }
}

function quantile (values: number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return Math.max(0, sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number)
}

function round (value: number): number {
  return Math.round(value * 100) / 100
}
