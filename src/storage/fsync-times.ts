/**
 * How long each fsync of the storage engine takes, by kind of file: a wrapper of the disk port
 * that times `datasync`/`sync` of every file it opens and `syncDirectory`. One place sees every
 * fsync (segments, indexes, producer snapshots, checkpoints, directories), so "more fsyncs per
 * round than files written" is answered by the metric, not by reading every caller.
 *
 * Cardinality: the kind comes from the file name and is one of five values, never a partition.
 */
import path from 'node:path'
import type { Clock } from '../io/clock.js'
import type { Disk, DiskFile } from '../io/disk.js'
import { FixedHistogram } from '../metrics/fixed-histogram.js'

export const FSYNC_KINDS = ['log', 'index', 'snapshot', 'checkpoint', 'directory'] as const
export type FsyncKind = typeof FSYNC_KINDS[number]

export class FsyncTimes {
  readonly byKind: ReadonlyMap<FsyncKind, FixedHistogram> = new Map(
    FSYNC_KINDS.map(kind => [kind, new FixedHistogram()]))

  observe (kind: FsyncKind, seconds: number): void {
    this.byKind.get(kind)?.observe(seconds)
  }
}

/** Segment data, its two indexes, producer snapshots; anything else is a checkpoint file. */
export function fsyncKindOf (file: string): FsyncKind {
  switch (path.extname(file)) {
    case '.log': return 'log'
    case '.index': case '.timeindex': return 'index'
    case '.snapshot': return 'snapshot'
    default: return 'checkpoint'
  }
}

export function timedDisk (disk: Disk, times: FsyncTimes, clock: Clock): Disk {
  const timed = async (kind: FsyncKind, sync: () => Promise<void>): Promise<void> => {
    const started = clock.monotonicMs()
    await sync()
    times.observe(kind, (clock.monotonicMs() - started) / 1000)
  }
  // Explicit delegation, not a spread: a disk may be a class whose methods are on its prototype.
  return {
    list: directory => disk.list(directory),
    listDirectories: directory => disk.listDirectories(directory),
    mkdir: directory => disk.mkdir(directory),
    rename: (from, to) => disk.rename(from, to),
    remove: file => disk.remove(file),
    size: file => disk.size(file),
    readOptional: file => disk.readOptional(file),
    lock: directory => disk.lock(directory),
    open: async (file, mode) => timedFile(await disk.open(file, mode), fsyncKindOf(file), timed),
    syncDirectory: directory => timed('directory', () => disk.syncDirectory(directory)),
  }
}

function timedFile (file: DiskFile, kind: FsyncKind,
  timed: (kind: FsyncKind, sync: () => Promise<void>) => Promise<void>): DiskFile {
  return {
    read: (buffer, offset, length, position) => file.read(buffer, offset, length, position),
    writev: (buffers, position) => file.writev(buffers, position),
    writeFile: data => file.writeFile(data),
    readFile: () => file.readFile(),
    stat: () => file.stat(),
    truncate: length => file.truncate(length),
    datasync: () => timed(kind, () => file.datasync()),
    sync: () => timed(kind, () => file.sync()),
    close: () => file.close(),
  }
}
