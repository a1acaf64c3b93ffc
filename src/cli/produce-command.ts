/**
 * `tributary produce TOPIC`: one record per stdin line, kcat style. `-k SEP` splits key and
 * value at the first SEP; the key picks the partition with Kafka's murmur2 partitioner unless
 * `-p` is given (no key: round robin). `-H k=v` adds headers, `-Z` sends an empty value as null
 * (a tombstone). Lines are batched per partition (up to 1000 records or 512 KiB). At the end it
 * reports what it wrote: records per partition and the offsets they got (none with acks=0,
 * which gets no answer), unless `-q`.
 */
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { partitionForKey } from '../client/partitioner.js'
import { CompressionCodec } from '../records/batch-header.js'
import { buildRecordBatch, type RecordInput } from '../records/builder.js'
import { CliError, formatOf, integerOption, print, table, withClient } from './output.js'

const BATCH_RECORDS_MAX = 1000
const BATCH_BYTES_MAX = 512 * 1024
const CODECS: Record<string, CompressionCodec> = {
  none: CompressionCodec.None, gzip: CompressionCodec.Gzip, snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4, zstd: CompressionCodec.Zstd,
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

/** What one partition received: the first and last offsets its batches got (-1: unknown). */
interface PartitionReport { partition: number, records: number, firstOffset: number,
  lastOffset: number }

function report (topic: string, produced: number, partitions: PartitionReport[]): string {
  const known = (offset: number): string => offset < 0 ? '-' : String(offset)
  const rows = partitions.map(p => ({ partition: p.partition, records: p.records,
    'first-offset': known(p.firstOffset), 'last-offset': known(p.lastOffset) }))
  return [`Produced ${produced} record${produced === 1 ? '' : 's'} to ${topic}.`,
    ...(rows.length > 0 ? [table(rows)] : [])].join('\n')
}

export function registerProduceCommand (program: Command): void {
  program.command('produce <topic>').description('produce stdin lines as records')
    .option('-k, --key-separator <separator>', 'split each line into key and value ' +
      '(default: no key)')
    .option('-p, --partition <partition>', 'partition (default: by key, else round robin)')
    .option('--acks <acks>', '-1 (all), 1 or 0', '-1')
    .option('-z, --compression <codec>', 'none, gzip, snappy, lz4, zstd', 'none')
    .option('-H, --header <key=value>', 'header on every record (repeatable)', collect, [])
    .option('-Z, --null-empty', 'send an empty value as null (a tombstone)', false)
    .option('-q, --quiet', 'print no report of what was written', false)
    .action(async (topic: string, options, command: Command) => {
      const quiet = options.quiet === true
      const { bootstrap, format } = command.optsWithGlobals()
      const output = formatOf(format)
      const codec = CODECS[options.compression as string]
      if (codec === undefined) {
        throw new CliError(`--compression must be none, gzip, snappy, lz4 or zstd`, 2)
      }
      const acks = Number(options.acks)
      if (acks !== -1 && acks !== 0 && acks !== 1) throw new CliError('--acks must be -1, 0 or 1', 2)
      const fixedPartition = integerOption('--partition', options.partition)
      const headers = (options.header as string[]).map(pair => {
        const at = pair.indexOf('=')
        if (at <= 0) throw new CliError(`-H must be key=value, got "${pair}"`, 2)
        return { key: pair.slice(0, at), value: pair.slice(at + 1) }
      })
      const produced = await withClient(bootstrap, async client => {
        const metadata = await client.metadata([topic], true)
        const partitions = metadata.topics[0]?.partitions.length ?? 0
        if (partitions === 0) throw new CliError(`topic ${topic} does not exist`)
        if (fixedPartition !== undefined && fixedPartition >= partitions) {
          throw new CliError(`topic ${topic} has no partition ${fixedPartition}`)
        }
        const pending = new Map<number, { records: RecordInput[], bytes: number }>()
        const written = new Map<number, PartitionReport>()
        let roundRobin = 0
        let count = 0
        const progress = !quiet && process.stderr.isTTY
        const flush = async (partition: number): Promise<void> => {
          const batch = pending.get(partition)
          if (batch === undefined || batch.records.length === 0) return
          pending.delete(partition)
          const { baseOffset } = await client.produce(topic, partition,
            await buildRecordBatch(batch.records, { compression: codec }), { acks })
          const last = baseOffset < 0 ? -1 : baseOffset + batch.records.length - 1
          const entry = written.get(partition)
          if (entry === undefined) {
            written.set(partition, { partition, records: batch.records.length,
              firstOffset: baseOffset, lastOffset: last })
          } else {
            entry.records += batch.records.length
            entry.lastOffset = last
          }
          count += batch.records.length
          if (progress) process.stderr.write(`\rproduced ${count} records`)
        }
        for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
          let key: string | null = null
          let value: string = line
          const separator = options.keySeparator as string | undefined
          if (separator !== undefined) {
            const at = line.indexOf(separator)
            if (at >= 0) {
              key = line.slice(0, at)
              value = line.slice(at + separator.length)
            }
          }
          const partition = fixedPartition ?? (key !== null
            ? partitionForKey(Buffer.from(key), partitions)
            : roundRobin++ % partitions)
          const batch = pending.get(partition) ?? { records: [], bytes: 0 }
          pending.set(partition, batch)
          batch.records.push({ key, value: value === '' && options.nullEmpty === true ? null : value,
            headers })
          batch.bytes += line.length
          if (batch.records.length >= BATCH_RECORDS_MAX || batch.bytes >= BATCH_BYTES_MAX) {
            await flush(partition)
          }
        }
        for (const partition of [...pending.keys()]) await flush(partition)
        if (progress) process.stderr.write('\n')
        const byPartition = [...written.values()].sort((a, b) => a.partition - b.partition)
        return { count, partitions: byPartition }
      })
      if (quiet) return
      print(output, { topic, produced: produced.count, partitions: produced.partitions },
        () => report(topic, produced.count, produced.partitions))
    })
}
