/**
 * Bounded zstd decoding (codec 4). zstd-napi's one-shot `decompress` allocates whatever the
 * frame header's content size claims (4 GiB for a 20-byte frame), so this streams instead:
 * a declared content size above the limit is refused before anything is allocated, and the
 * output is produced in chunks that never add up to more than `maxOutputBytes` + 1 bytes.
 * When a lone frame declares its size (librdkafka writes it; the Java client's streaming
 * encoder does not), it is decoded in one call into a buffer of that size, which the decoder
 * cannot overrun (twice as fast as streaming for a 600 KiB batch).
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
  if (declared !== null && isLoneFrame(data)) return decodeDeclared(context, data, declared)
  return decodeStreaming(context, data, maxOutputBytes)
}

function isLoneFrame (data: Buffer): boolean {
  try {
    return binding.findFrameCompressedSize(data) === data.length
  } catch {
    return false
  }
}

/** A lone frame of known size: ZSTD_decompressDCtx fails rather than write past `declared`. */
function decodeDeclared (context: binding.DCtx, data: Buffer, declared: number): Buffer {
  const output = Buffer.allocUnsafe(declared)
  let written: number
  try {
    written = context.decompress(output, data)
  } catch (error) {
    throw corrupt((error as Error).message)
  }
  if (written !== declared) throw corrupt(`frame holds ${written} bytes, not ${declared}`)
  return output
}

function decodeStreaming (context: binding.DCtx, data: Buffer, maxOutputBytes: number): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  let input = data
  let remaining = 1 // ZSTD_decompressStream's hint: 0 once a frame is complete and flushed
  while (input.length > 0 || remaining !== 0) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxOutputBytes - total + 1))
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
