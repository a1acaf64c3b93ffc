/**
 * The log cleaner's worker thread (`log.cleaner.threads`): runs the map and copy passes of a
 * cleaning (compaction.ts, compactSegments) off the broker's event loop, so hashing keys and
 * filtering records never delays a produce or a fetch. It reads the segments by file name
 * (read-only; the main thread holds them open, and a rename or a deletion meanwhile does not
 * disturb an open file) and writes the `.cleaned` files; the main thread then swaps them in.
 *
 * Protocol: one CleanTask message in, one `{ ok: true, result }` or `{ ok: false, error }`
 * out, one task at a time. I/O is paced to `ioMaxBytesPerSecond` (workerData).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { nodeDisk, type DiskFile } from '../io/disk.js'
import { compactSegments, type CleanTask, type SegmentSource } from './compaction.js'

const { ioMaxBytesPerSecond } = workerData as { ioMaxBytesPerSecond: number }

/** A segment file opened read-only, never read past the bytes written when the task began. */
async function openSource (segment: CleanTask['segments'][number]):
Promise<{ source: SegmentSource, file: DiskFile }> {
  const file = await nodeDisk.open(segment.path, 'read')
  return {
    file,
    source: {
      baseOffset: segment.baseOffset,
      nextOffset: segment.nextOffset,
      size: segment.size,
      writtenBytes: segment.writtenBytes,
      async read (position, length) {
        const available = Math.max(0, Math.min(length, segment.writtenBytes - position))
        const buffer = Buffer.allocUnsafe(available)
        if (available === 0) return buffer
        const { bytesRead } = await file.read(buffer, 0, available, position)
        return buffer.subarray(0, bytesRead)
      },
    },
  }
}

function pacer (): (bytes: number) => Promise<void> {
  const started = performance.now()
  return async bytes => {
    if (!(ioMaxBytesPerSecond < Number.MAX_VALUE)) return
    const waitMs = started + (bytes / ioMaxBytesPerSecond) * 1000 - performance.now()
    if (waitMs > 0) await new Promise(resolve => setTimeout(resolve, waitMs))
  }
}

parentPort?.on('message', (task: CleanTask) => {
  void (async () => {
    const opened: DiskFile[] = []
    try {
      const sources: SegmentSource[] = []
      for (const segment of task.segments) {
        const { source, file } = await openSource(segment)
        opened.push(file)
        sources.push(source)
      }
      const result = await compactSegments(sources, task,
        { disk: nodeDisk, throttle: pacer(), worker: true })
      parentPort?.postMessage({ ok: true, result })
    } catch (error) {
      parentPort?.postMessage({ ok: false, error: String(error) })
    } finally {
      for (const file of opened) await file.close().catch(() => undefined)
    }
  })()
})
