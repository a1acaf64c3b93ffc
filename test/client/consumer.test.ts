import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FetchedPartition, KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import {
  ATTRIBUTES_OFFSET, CONTROL_FLAG_MASK, CRC_OFFSET,
} from '../../src/records/batch-header.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { crc32c } from '../../src/records/crc32c.js'

function batch (baseOffset: number, values: string[]): Buffer {
  return buildRecordBatchSync(values.map(value => ({ value })), { baseOffset })
}

function controlBatch (baseOffset: number): Buffer {
  const bytes = Buffer.from(batch(baseOffset, ['marker']))
  bytes.writeInt16BE(bytes.readInt16BE(ATTRIBUTES_OFFSET) | CONTROL_FLAG_MASK, ATTRIBUTES_OFFSET)
  bytes.writeUInt32BE(crc32c(bytes.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET)
  return bytes
}

/**
 * A stand-in for KafkaClient over a fixed log: a fetch returns the bytes from the batch that
 * holds the offset, cut at maxBytes (so the last batch may be partial), as a broker does.
 */
function stubClient (log: Buffer[], highWatermark: number) {
  const fetches: { offset: number, maxBytes: number }[] = []
  const client = {
    listOffsets: async () => ({ offset: highWatermark, timestamp: -1 }),
    fetch: async (_topic: string, _partition: number, offset: number,
      options: { maxBytes?: number }): Promise<FetchedPartition> => {
      const maxBytes = options.maxBytes ?? 1 << 20
      fetches.push({ offset, maxBytes })
      const start = log.findIndex(bytes => {
        const last = Number(bytes.readBigInt64BE(0)) + bytes.readInt32BE(23)
        return last >= offset
      })
      const bytes = start < 0 ? Buffer.alloc(0) : Buffer.concat(log.slice(start))
      return {
        highWatermark, lastStableOffset: highWatermark, logStartOffset: 0,
        records: bytes.subarray(0, maxBytes),
      } as unknown as FetchedPartition
    },
  }
  return { client: client as unknown as KafkaClient, fetches }
}

async function collect (iterable: AsyncIterable<{ offset: number, value: Buffer | null }>):
Promise<string[]> {
  const seen: string[] = []
  for await (const record of iterable) seen.push(`${record.offset}:${record.value?.toString()}`)
  return seen
}

describe('readPartition', () => {
  it('yields records from the requested offset, skipping earlier ones and control batches',
    async () => {
      const log = [batch(0, ['a', 'b', 'c']), controlBatch(3), batch(4, ['d', 'e'])]
      const { client } = stubClient(log, 6)
      assert.deepEqual(await collect(readPartition(client, 't', 0, 1)),
        ['1:b', '2:c', '4:d', '5:e'])
    })

  it('stops before untilOffset', async () => {
    const { client } = stubClient([batch(0, ['a', 'b', 'c']), batch(3, ['d'])], 4)
    assert.deepEqual(await collect(readPartition(client, 't', 0, 0, { untilOffset: 2 })),
      ['0:a', '1:b'])
  })

  it('leaves a partial trailing batch for the next fetch', async () => {
    const first = batch(0, ['a'])
    const log = [first, batch(1, ['b'.repeat(100)]), batch(2, ['c'])]
    const { client, fetches } = stubClient(log, 3)
    const records = await collect(readPartition(client, 't', 0, 0,
      { maxBytes: first.length + 20 }))
    assert.deepEqual(records.map(record => record.slice(0, 3)), ['0:a', '1:b', '2:c'])
    assert.equal(fetches[0]?.offset, 0)
    assert.equal(fetches[1]?.offset, 1, 'the partial batch is asked for again')
    assert.equal(fetches[2]?.offset, 1)
    assert.equal(fetches[2]?.maxBytes, 2 * (first.length + 20),
      'the fetch size doubled because not one whole batch fitted')
  })

  it('refuses a broker that returns only batches below the position', async () => {
    const stale = batch(0, ['a'])
    const client = {
      listOffsets: async () => ({ offset: 5, timestamp: -1 }),
      fetch: async () => ({ records: stale }),
    } as unknown as KafkaClient
    await assert.rejects(collect(readPartition(client, 't', 0, 3)),
      { errorName: 'UNKNOWN_SERVER_ERROR' })
  })
})
