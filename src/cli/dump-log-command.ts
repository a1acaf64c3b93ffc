/**
 * `tributary dump-log FILE`: the batches of a segment file with their offsets, sizes and CRC
 * check, like Kafka's kafka-dump-log.sh; `--print-data` decodes the records. A local file
 * tool: it reads the file synchronously, as CLIs may.
 */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { decodeRecordBatch } from '../records/batch.js'
import {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, batchCrcMatches, compressionCodecOf, readBatchHeader,
} from '../records/batch-header.js'
import { CliError, formatOf } from './output.js'

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

export function registerDumpLogCommand (program: Command): void {
  program.command('dump-log <file>').description('print the batches of a .log segment file')
    .option('--print-data', 'decode and print every record', false)
    .action(async (file: string, options, command: Command) => {
      const { format } = command.optsWithGlobals()
      const json = formatOf(format) === 'json'
      let bytes: Buffer
      try {
        bytes = readFileSync(file)
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`)
      }
      let position = 0
      let invalid = 0
      while (position + LOG_OVERHEAD_BYTES <= bytes.length) {
        const size = bytes.readInt32BE(position + 8) + LOG_OVERHEAD_BYTES
        if (size < BATCH_HEADER_BYTES || position + size > bytes.length) {
          console.log(json ? JSON.stringify({ position, error: 'truncated or invalid batch' })
            : `position: ${position} truncated or invalid batch of ${size} bytes`)
          invalid++
          break
        }
        const header = readBatchHeader(bytes, position)
        const valid = batchCrcMatches(bytes, position, size)
        if (!valid) invalid++
        const entry = {
          baseOffset: header.baseOffset, lastOffset: header.baseOffset + header.lastOffsetDelta,
          count: header.recordsCount, position, size, crc: header.crc, isValid: valid,
          compresscodec: CODEC_NAMES[compressionCodecOf(header.attributes)] ?? 'unknown',
          producerId: header.producerId, producerEpoch: header.producerEpoch,
          baseSequence: header.baseSequence, partitionLeaderEpoch: header.partitionLeaderEpoch,
          maxTimestamp: header.maxTimestamp,
        }
        console.log(json ? JSON.stringify(entry) : Object.entries(entry)
          .map(([key, value]) => `${key}: ${String(value)}`).join(' '))
        if (options.printData === true && valid) {
          const batch = await decodeRecordBatch(bytes.subarray(position, position + size))
          for (const record of batch.records) {
            const line = { offset: record.offset, timestamp: record.timestamp,
              key: record.key?.toString() ?? null, value: record.value?.toString() ?? null,
              headers: record.headers.map(h => `${h.key}=${h.value?.toString() ?? ''}`) }
            console.log(json ? JSON.stringify(line) : `| offset: ${line.offset} ` +
              `CreateTime: ${line.timestamp} key: ${line.key} payload: ${line.value}`)
          }
        }
        position += size
      }
      if (invalid > 0) throw new CliError(`${file}: ${invalid} invalid batch(es)`)
    })
}
