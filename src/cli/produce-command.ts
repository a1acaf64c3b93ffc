/**
 * `tributary produce TOPIC`: one record per stdin line, kcat style. `-k SEP` splits key and
 * value at the first SEP; the key picks the partition with Kafka's murmur2 partitioner unless
 * `-p` is given (no key: round robin). `-H k=v` adds headers, `-Z` sends an empty value as null
 * (a tombstone). Lines are batched per partition (up to 1000 records or 512 KiB).
 */
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { partitionForKey } from '../client/partitioner.js'
import { CompressionCodec } from '../records/batch-header.js'
import { buildRecordBatch, type RecordInput } from '../records/builder.js'
import { CliError, formatOf, integerOption, print, withClient } from './output.js'

const BATCH_RECORDS_MAX = 1000
const BATCH_BYTES_MAX = 512 * 1024
const CODECS: Record<string, CompressionCodec> = {
  none: CompressionCodec.None, gzip: CompressionCodec.Gzip, snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4, zstd: CompressionCodec.Zstd,
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

export function registerProduceCommand (program: Command): void {
  program.command('produce <topic>').description('produce stdin lines as records')
    .option('-k, --key-separator <separator>', 'split each line into key and value')
    .option('-p, --partition <partition>', 'partition (default: by key, else round robin)')
    .option('--acks <acks>', '-1 (all), 1 or 0', '-1')
    .option('-z, --compression <codec>', 'none, gzip, snappy, lz4, zstd', 'none')
    .option('-H, --header <key=value>', 'header on every record (repeatable)', collect, [])
    .option('-Z, --null-empty', 'send an empty value as null (a tombstone)', false)
    .action(async (topic: string, options, command: Command) => {
      const { bootstrap, format } = command.optsWithGlobals()
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
        let roundRobin = 0
        let count = 0
        const flush = async (partition: number): Promise<void> => {
          const batch = pending.get(partition)
          if (batch === undefined || batch.records.length === 0) return
          pending.delete(partition)
          await client.produce(topic, partition,
            await buildRecordBatch(batch.records, { compression: codec }), { acks })
          count += batch.records.length
          if (process.stderr.isTTY) process.stderr.write(`\rproduced ${count} records`)
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
        if (process.stderr.isTTY) process.stderr.write('\n')
        return count
      })
      print(formatOf(format), { topic, produced }, () => '')
    })
}
