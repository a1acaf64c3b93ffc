/**
 * The machine a benchmark ran on, recorded in every result: CPUs, memory, Node, kernel, and the
 * file system and block device under the directory the broker writes to (from /proc/mounts
 * and /sys/block; absent elsewhere).
 */
import { readFile, realpath } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export interface DiskFacts {
  path: string
  mountPoint?: string
  filesystem?: string
  device?: string
  rotational?: boolean
  model?: string
}

export interface MachineFacts {
  cpus: number
  cpuModel: string | undefined
  memoryGiB: number
  node: string
  platform: string
  disk: DiskFacts
}

export async function machineFacts (dataPath = os.tmpdir()): Promise<MachineFacts> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    disk: await diskFacts(dataPath),
  }
}

async function diskFacts (dataPath: string): Promise<DiskFacts> {
  const facts: DiskFacts = { path: dataPath }
  try {
    const resolved = await realpath(dataPath)
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n')
      .map(line => line.split(' '))
      .filter(fields => fields.length >= 3)
    // The longest mount point that contains the path is the file system it lives on.
    let best: string[] | undefined
    for (const fields of mounts) {
      const mountPoint = fields[1] as string
      const inside = resolved === mountPoint ||
        resolved.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`)
      if (inside && (best === undefined || mountPoint.length > (best[1] as string).length)) {
        best = fields
      }
    }
    if (best === undefined) return facts
    facts.device = best[0]
    facts.mountPoint = best[1]
    facts.filesystem = best[2]
    const block = path.basename(best[0] as string).replace(/p?\d+$/, '')
    const queue = `/sys/block/${block}`
    facts.rotational = (await readFile(`${queue}/queue/rotational`, 'utf8')).trim() === '1'
    facts.model = (await readFile(`${queue}/device/model`, 'utf8').catch(() => '')).trim() ||
      undefined
  } catch {
    // Not Linux, or no such block device (overlay, tmpfs): keep what was found.
  }
  return facts
}

export function describeMachine (machine: MachineFacts): string {
  const disk = machine.disk
  return `${machine.cpus} × ${machine.cpuModel ?? 'CPU'}, ${machine.memoryGiB} GiB, ` +
    `Node ${machine.node}, ${machine.platform}; data on ${disk.filesystem ?? '?'} ` +
    `(${disk.device ?? '?'}${disk.rotational === undefined ? ''
      : disk.rotational ? ', rotational' : ', non-rotational'})`
}
