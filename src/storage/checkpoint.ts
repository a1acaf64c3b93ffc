/**
 * Small files replaced atomically (write a temp file, fsync it, rename over the old one, fsync
 * the directory), and Kafka's offset-checkpoint text format:
 *   0\n<count>\n<topic> <partition> <offset>\n...   (OffsetCheckpointFile)
 * A torn or corrupt checkpoint reads as empty, which only costs a longer recovery. Writes of
 * one file are serialized (see `inFlight`).
 */
import path from 'node:path'
import type { Disk } from '../io/disk.js'

/**
 * The write in progress per file. Writers of one file share its temp name, so they must not
 * overlap (one would truncate or rename the other's temp file): each waits for the one before
 * it, in call order, so the newest contents land last. An entry lives only while a write of
 * that file is in flight, so the map holds at most one entry per file being written.
 */
const inFlight = new Map<string, Promise<void>>()

export async function writeAtomic (disk: Disk, file: string,
  contents: string | Buffer): Promise<void> {
  const previous = inFlight.get(file)
  const write = (previous ?? Promise.resolve()).catch(() => undefined)
    .then(() => replaceFile(disk, file, contents))
  inFlight.set(file, write)
  try {
    await write
  } finally {
    if (inFlight.get(file) === write) inFlight.delete(file)
  }
}

async function replaceFile (disk: Disk, file: string, contents: string | Buffer): Promise<void> {
  const temporary = `${file}.tmp`
  const handle = await disk.open(temporary, 'replace')
  try {
    await handle.writeFile(contents)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await disk.rename(temporary, file)
  await disk.syncDirectory(path.dirname(file))
}

export type OffsetCheckpoint = Map<string, number>

export function checkpointKey (topic: string, partition: number): string {
  return `${topic} ${partition}`
}

export function formatCheckpoint (entries: OffsetCheckpoint): string {
  const lines = ['0', String(entries.size)]
  for (const [key, offset] of entries) lines.push(`${key} ${offset}`)
  return lines.join('\n') + '\n'
}

export function parseCheckpoint (text: string): OffsetCheckpoint {
  const entries: OffsetCheckpoint = new Map()
  const lines = text.split('\n').filter(line => line !== '')
  if (lines[0] !== '0') return entries
  const count = Number(lines[1])
  if (!Number.isInteger(count) || lines.length !== count + 2) return new Map()
  for (const line of lines.slice(2)) {
    const parts = line.split(' ')
    const offset = Number(parts[2])
    if (parts.length !== 3 || !Number.isSafeInteger(offset)) return new Map()
    entries.set(`${parts[0]} ${parts[1]}`, offset)
  }
  return entries
}
