/**
 * Bounded zstd decoding (codec 4). zstd-napi's one-shot `decompress` allocates whatever the
 * frame header's content size claims (4 GiB for a 20-byte frame), so this streams instead:
 * a declared content size above the limit is refused before anything is allocated, and the
 * output is produced in chunks that never add up to more than `maxOutputBytes` + 1 bytes.
 * When the first frame declares its size (librdkafka writes it; the Java client's streaming
 * encoder does not), the first chunk is that size and one call decodes the frame.
 *
 * The decoder's window is limited by zstd's default windowLogMax (27, 128 MiB of address
 * space), of which only what the frame actually writes is touched.
 */
import binding from 'zstd-napi/binding.js'
import { RecordsError } from './errors.js'

/** Kafka's ZstdFactory reads through a 16 KiB buffer; larger chunks mean fewer native calls. */
const CHUNK_BYTES = 128 * 1024

function corrupt (message: string): RecordsError {
  return new RecordsError('CORRUPT_MESSAGE', `zstd: ${message}`)
}

/** One context, reset per call: decoding is synchronous, so calls never interleave. */
let context: binding.DCtx | undefined

export function decompressZstdFrames (data: Buffer, maxOutputBytes: number): Buffer {
  const declared = declaredContentSize(data)
  if (declared !== null && declared > maxOutputBytes) {
    throw corrupt(`frame declares ${declared} bytes, more than the ${maxOutputBytes} allowed`)
  }
  context ??= new binding.DCtx()
  context.reset(binding.ResetDirective.sessionOnly)
  const chunks: Buffer[] = []
  let total = 0
  let input = data
  let remaining = 1 // ZSTD_decompressStream's hint: 0 once a frame is complete and flushed
  let chunkBytes = declared !== null && declared > 0 ? declared + 1 : CHUNK_BYTES
  while (input.length > 0 || remaining !== 0) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, maxOutputBytes - total + 1))
    chunkBytes = CHUNK_BYTES
    let produced: number
    let consumed: number
    try {
      [remaining, produced, consumed] = context.decompressStream(chunk, input)
    } catch (error) {
      throw corrupt((error as Error).message)
    }
    input = input.subarray(consumed)
    total += produced
    if (total > maxOutputBytes) throw corrupt(`frames inflate past ${maxOutputBytes} bytes`)
    if (produced > 0) chunks.push(chunk.subarray(0, produced))
    if (produced === 0 && consumed === 0) throw corrupt('truncated frame')
  }
  return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, total)
}

/** The first frame's content size, or null when it is not declared (or not a frame). */
function declaredContentSize (data: Buffer): number | null {
  try {
    return binding.getFrameContentSize(data)
  } catch {
    return null // not a valid frame header: decompressStream reports the damage
  }
}
