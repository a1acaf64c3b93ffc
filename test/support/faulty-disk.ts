/**
 * The real disk with datasync faults on demand, for tests of a log whose fsync fails: every
 * file opened through `disk` is the real one, except that its datasync
 *
 * - fails with EIO while `failSyncs` is above zero (counting it down), and
 * - while `gate` is set, waits for it and then fails with EIO (a write that landed but whose
 *   fsync is slow, then fails).
 */
import { nodeDisk, type Disk, type DiskFile } from '../../src/io/disk.js'

export interface DiskFaults { disk: Disk, failSyncs: number, gate: Promise<void> | undefined }

const eio = (): Error => Object.assign(new Error('injected EIO'), { code: 'EIO' })

export function faultyDisk (): DiskFaults {
  const faults: DiskFaults = { disk: nodeDisk, failSyncs: 0, gate: undefined }
  const wrap = (handle: DiskFile): DiskFile => ({
    read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
    writev: (buffers, position) => handle.writev(buffers, position),
    writeFile: data => handle.writeFile(data),
    readFile: () => handle.readFile(),
    stat: () => handle.stat(),
    truncate: length => handle.truncate(length),
    datasync: async () => {
      const gate = faults.gate
      if (gate !== undefined) {
        await gate
        throw eio()
      }
      if (faults.failSyncs-- > 0) throw eio()
      return handle.datasync()
    },
    sync: () => handle.sync(),
    close: () => handle.close(),
  })
  faults.disk = { ...nodeDisk, open: async (file, mode) => wrap(await nodeDisk.open(file, mode)) }
  return faults
}
