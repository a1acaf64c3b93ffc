import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DeliveryTimeoutError, IdempotentProducer, type ProducerTransport,
} from '../../src/client/idempotent-producer.js'
import { KafkaClientError, KafkaConnectionError } from '../../src/client/errors.js'
import type { Clock } from '../../src/io/clock.js'
import { ERROR } from '../../src/protocol/errors.js'
import { readBatchHeader } from '../../src/records/batch-header.js'

/** A clock whose timers fire on the next turn, with time jumping to their due time. */
function instantClock (): Clock {
  let now = 0
  return {
    nowMs: () => now,
    monotonicMs: () => now,
    setTimer (delayMs, callback) {
      const timer = setImmediate(() => { now += delayMs; callback() })
      return { cancel: () => clearImmediate(timer) }
    },
  }
}

interface Sent { partition: number, batch: Buffer }

/** A broker stand-in: `failures` decides per produce call whether (and how) it fails. */
function fakeTransport (failures: (call: number) => Error | undefined) {
  const sent: Sent[] = []
  let producerIds = 100
  let offset = 0
  const transport: ProducerTransport = {
    initProducerId: async () => ({ producerId: producerIds++, producerEpoch: 0 }),
    produce: async (_topic, partition, batch) => {
      sent.push({ partition, batch: Buffer.from(batch) })
      const failure = failures(sent.length)
      if (failure !== undefined) throw failure
      const baseOffset = offset
      offset += readBatchHeader(batch).recordsCount
      return { baseOffset, logAppendTimeMs: -1, logStartOffset: 0 }
    },
  }
  return { transport, sent }
}

const records = (count: number) => Array.from({ length: count }, (_, i) => ({ value: `v${i}` }))

describe('IdempotentProducer', () => {
  it('numbers batches per partition from 0 by record count', async () => {
    const { transport, sent } = fakeTransport(() => undefined)
    const producer = new IdempotentProducer(transport, { clock: instantClock() })
    await producer.send('t', 0, records(3))
    await producer.send('t', 1, records(2))
    const third = await producer.send('t', 0, records(4))
    assert.equal(third.baseSequence, 3)
    const headers = sent.map(({ partition, batch }) => ({ partition, ...readBatchHeader(batch) }))
    assert.deepEqual(headers.map(h => [h.partition, h.producerId, h.producerEpoch,
      h.baseSequence, h.recordsCount]), [[0, 100, 0, 0, 3], [1, 100, 0, 0, 2],
      [0, 100, 0, 3, 4]])
  })

  it('retries a failed send with the same bytes, so the broker can deduplicate it', async () => {
    const lost = new KafkaConnectionError('127.0.0.1:1', 'connection closed')
    const busy = new KafkaClientError(ERROR.NOT_ENOUGH_REPLICAS)
    const { transport, sent } = fakeTransport(call => [lost, busy][call - 1])
    const producer = new IdempotentProducer(transport, { clock: instantClock() })
    const result = await producer.send('t', 0, records(5), { timestampMs: 1 })
    assert.equal(result.attempts, 3)
    assert.equal(sent.length, 3)
    assert.ok(sent.every(({ batch }) => batch.equals(sent[0]?.batch as Buffer)))
    assert.equal((await producer.send('t', 0, records(1))).baseSequence, 5)
  })

  it('starts over with a new producer id after a send that timed out in doubt', async () => {
    const { transport } = fakeTransport(call => call <= 3
      ? new KafkaConnectionError('127.0.0.1:1', 'refused')
      : undefined)
    const producer = new IdempotentProducer(transport,
      { clock: instantClock(), deliveryTimeoutMs: 150, retryBackoffMs: 50 })
    await assert.rejects(producer.send('t', 0, records(2)), DeliveryTimeoutError)
    const next = await producer.send('t', 0, records(2))
    assert.deepEqual([next.producerId, next.baseSequence], [101, 0])
  })

  it('fails a send on OUT_OF_ORDER_SEQUENCE_NUMBER without retrying it', async () => {
    const { transport, sent } = fakeTransport(call => call === 1
      ? new KafkaClientError(ERROR.OUT_OF_ORDER_SEQUENCE_NUMBER)
      : undefined)
    const producer = new IdempotentProducer(transport, { clock: instantClock() })
    await assert.rejects(producer.send('t', 0, records(1)), /OUT_OF_ORDER_SEQUENCE_NUMBER/)
    assert.equal(sent.length, 1)
    assert.equal((await producer.send('t', 0, records(1))).producerId, 101)
  })

  it('treats DUPLICATE_SEQUENCE_NUMBER as written before, with an unknown offset', async () => {
    const { transport } = fakeTransport(call => call === 1
      ? new KafkaClientError(ERROR.DUPLICATE_SEQUENCE_NUMBER)
      : undefined)
    const producer = new IdempotentProducer(transport, { clock: instantClock() })
    assert.equal((await producer.send('t', 0, records(2))).baseOffset, -1)
    assert.equal((await producer.send('t', 0, records(1))).baseSequence, 2)
  })

  it('keeps sends to one partition in call order while another proceeds', async () => {
    const { transport, sent } = fakeTransport(call => call === 1
      ? new KafkaConnectionError('127.0.0.1:1', 'reset')
      : undefined)
    const producer = new IdempotentProducer(transport, { clock: instantClock() })
    await Promise.all([producer.send('t', 0, records(1)), producer.send('t', 0, records(2)),
      producer.send('t', 1, records(1))])
    const zero = sent.filter(({ partition }) => partition === 0)
      .map(({ batch }) => readBatchHeader(batch).baseSequence)
    assert.deepEqual(zero, [0, 0, 1])
  })
})
