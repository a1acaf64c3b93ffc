/**
 * The raw limit of a produce run (issue #6): the same bytes the broker made durable, written by
 * a plain loop to as many files as the run had partitions, with one fdatasync per the broker's
 * observed average group-commit size (flushed bytes / fsyncs, from its metrics). It runs right
 * after the broker run, in the same process, on the same file system, so the ratio compares
 * like with like on a disk whose speed drifts between runs.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'

export interface RawLimit {
  bytes: number
  bytesPerFsync: number
  fsyncs: number
  seconds: number
  megabytesPerSecond: number
}

export function measureRawLimit (directory: string, bytes: number, bytesPerFsync: number,
  files: number, chunk: Buffer): RawLimit {
  const scratch = mkdtempSync(path.join(directory, 'tributary-raw-'))
  const descriptors = Array.from({ length: files },
    (_, i) => openSync(path.join(scratch, `raw-${i}.log`), 'w'))
  const positions = new Array<number>(files).fill(0)
  const unsynced = new Array<number>(files).fill(0)
  let fsyncs = 0
  let written = 0
  const started = performance.now()
  try {
    // Synchronous on purpose: this is the plain loop the broker is compared with.
    for (let slot = 0; written < bytes; slot++) {
      const file = slot % files
      const fd = descriptors[file] as number
      const length = Math.min(chunk.length, bytes - written)
      writeSync(fd, chunk, 0, length, positions[file])
      positions[file] = (positions[file] as number) + length
      unsynced[file] = (unsynced[file] as number) + length
      written += length
      if ((unsynced[file] as number) >= bytesPerFsync) {
        fdatasyncSync(fd)
        fsyncs++
        unsynced[file] = 0
      }
    }
    for (const [file, fd] of descriptors.entries()) {
      if ((unsynced[file] as number) > 0) {
        fdatasyncSync(fd)
        fsyncs++
      }
    }
  } finally {
    for (const fd of descriptors) closeSync(fd)
    rmSync(scratch, { recursive: true, force: true })
  }
  const seconds = (performance.now() - started) / 1000
  return {
    bytes: written, bytesPerFsync, fsyncs, seconds, megabytesPerSecond: written / seconds / 1e6,
  }
}

/** Reads the broker's group-commit totals from its Prometheus endpoint. */
export async function scrapeFlushTotals (httpAddress: string): Promise<{ fsyncs: number,
  bytes: number, rounds: number }> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text()
  const value = (name: string): number => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
    if (match === null) throw new Error(`broker metrics lack ${name}`)
    return Number(match[1])
  }
  return {
    rounds: value('tributary_log_flush_rounds_total'),
    fsyncs: value('tributary_log_fsyncs_total'),
    bytes: value('tributary_log_flushed_bytes_total'),
  }
}
