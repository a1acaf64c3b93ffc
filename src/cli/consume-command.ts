/**
 * `tributary consume TOPIC`: prints records, one JSON object per line by default, or with a
 * kcat-style `-f` format (%t topic, %p partition, %o offset, %k key, %v value, %T timestamp,
 * %h headers, \n \t). `-o` starts at `beginning|start`, `end`, `@<timestamp ms>`, `-N` (N
 * before the end) or an offset; `-e` exits at the end of the partitions, `-c` after N records.
 */
import type { Command } from 'commander'
import type { KafkaClient } from '../client/client.js'
import { readPartition } from '../client/consumer.js'
import type { Record } from '../records/batch.js'
import { CliError, integerOption, withClient } from './output.js'

async function startOffset (client: KafkaClient, topic: string, partition: number,
  spec: string): Promise<number> {
  if (spec === 'beginning' || spec === 'start') {
    return (await client.listOffsets(topic, partition, -2)).offset
  }
  if (spec === 'end') return (await client.listOffsets(topic, partition, -1)).offset
  if (spec.startsWith('@')) {
    const timestamp = Number(spec.slice(1))
    if (!Number.isSafeInteger(timestamp)) throw new CliError(`-o ${spec}: bad timestamp`, 2)
    const found = await client.listOffsets(topic, partition, timestamp)
    return found.offset >= 0 ? found.offset : (await client.listOffsets(topic, partition, -1)).offset
  }
  const number = Number(spec)
  if (!Number.isSafeInteger(number)) {
    throw new CliError(`-o must be beginning, end, @<timestamp>, -N or an offset, got "${spec}"`, 2)
  }
  if (number < 0) {
    const end = (await client.listOffsets(topic, partition, -1)).offset
    const start = (await client.listOffsets(topic, partition, -2)).offset
    return Math.max(start, end + number)
  }
  return number
}

function render (format: string | undefined, topic: string, partition: number,
  record: Record): string {
  const headers = Object.fromEntries(record.headers.map(h => [h.key, h.value?.toString() ?? null]))
  if (format === undefined) {
    return JSON.stringify({ topic, partition, offset: record.offset,
      timestamp: record.timestamp, key: record.key?.toString() ?? null,
      value: record.value?.toString() ?? null, headers })
  }
  return format.replace(/%[tpokvTh]|\\n|\\t/g, token => {
    switch (token) {
      case '%t': return topic
      case '%p': return String(partition)
      case '%o': return String(record.offset)
      case '%k': return record.key?.toString() ?? ''
      case '%v': return record.value?.toString() ?? ''
      case '%T': return String(record.timestamp)
      case '%h': return Object.entries(headers).map(([k, v]) => `${k}=${v ?? ''}`).join(',')
      case '\\n': return '\n'
      default: return '\t'
    }
  })
}

export function registerConsumeCommand (program: Command): void {
  program.command('consume <topic>').description('print records of a topic')
    .option('-o, --offset <spec>', 'beginning|end|@<timestamp>|-N|<offset>', 'beginning')
    .option('-p, --partition <partition>', 'only this partition (default: all partitions)')
    .option('-c, --max-messages <count>', 'exit after this many records (default: no limit)')
    .option('-f, --fmt <format>', 'kcat-style format string (%t %p %o %k %v %T %h; ' +
      'default: one JSON object per record)')
    .option('-e, --exit', 'exit at the end of the partitions', false)
    .action(async (topic: string, options, command: Command) => {
      const { bootstrap } = command.optsWithGlobals()
      const only = integerOption('--partition', options.partition)
      const limit = integerOption('--max-messages', options.maxMessages, 1) ?? Infinity
      const format = options.fmt === undefined ? undefined : `${options.fmt as string}`
      const newline = format === undefined || !format.includes('\\n') ? '\n' : ''
      await withClient(bootstrap, async client => {
        const metadata = await client.metadata([topic])
        const described = metadata.topics[0]
        if (described === undefined || described.errorCode !== 0) {
          throw new CliError(`topic ${topic} does not exist`)
        }
        const partitions = only !== undefined ? [only] : described.partitions.map(p => p.partitionIndex)
        let printed = 0
        const next = new Map<number, number>()
        for (;;) {
          for (const partition of partitions) {
            const from = next.get(partition) ??
              await startOffset(client, topic, partition, options.offset)
            const until = (await client.listOffsets(topic, partition, -1)).offset
            for await (const record of readPartition(client, topic, partition, from,
              { untilOffset: until })) {
              process.stdout.write(render(format, topic, partition, record) + newline)
              if (++printed >= limit) return
            }
            next.set(partition, Math.max(from, until))
          }
          if (options.exit === true) return
          await new Promise(resolve => setTimeout(resolve, 200))
        }
      })
    })
}
