/**
 * The disk port: the file operations the storage engine uses, all asynchronous
 * (fs/promises). Storage imports them from here so a simulator can substitute a disk that
 * loses unsynced writes.
 */
export {
  mkdir, open, readdir, readFile, rename, rm, stat, truncate, unlink, writeFile,
  type FileHandle,
} from 'node:fs/promises'

import { open } from 'node:fs/promises'

/** fsyncs a directory so that a rename or a new file in it survives a crash. */
export async function syncDirectory (directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
