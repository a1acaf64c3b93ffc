/**
 * CRC-32C (Castagnoli), the checksum of RecordBatch v2 (KIP-98), from @node-rs/crc32's SIMD
 * implementation. Kept behind one function so every caller shares the same code path.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32'

export function crc32c (data: Uint8Array, initial = 0): number {
  return nativeCrc32c(data, initial) >>> 0
}
