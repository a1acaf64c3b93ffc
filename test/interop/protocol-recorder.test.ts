/**
 * The protocol recorder (test/support/protocol-recorder.ts) that the client interop tests put
 * between a client and the broker: frame splitting however the bytes arrive, and a recording
 * of exactly the requests a client sent, through a real broker and our own client.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { removeDataDir, startBroker, type BrokerProcess } from '../support/broker-process.js'
import { FrameHeads, HEAD_BYTES_MAX, ProtocolRecorder } from '../support/protocol-recorder.js'

function frame (body: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

function heads (chunks: Buffer[]): Buffer[] {
  const splitter = new FrameHeads()
  const out: Buffer[] = []
  for (const chunk of chunks) splitter.push(chunk, head => out.push(head))
  return out
}

describe('protocol recorder', () => {
  const small = Buffer.from('first frame')
  const empty = Buffer.alloc(0)
  const large = Buffer.alloc(HEAD_BYTES_MAX + 1000, 7)
  const stream = Buffer.concat([frame(small), frame(empty), frame(large), frame(small)])

  it('splits frames the same whether they arrive whole or byte by byte', () => {
    const whole = heads([stream])
    const bytes = heads([...stream].map(byte => Buffer.from([byte])))
    assert.deepEqual(bytes, whole)
    assert.deepEqual(whole.map(head => head.length), [small.length, 0, HEAD_BYTES_MAX,
      small.length])
    assert.deepEqual(whole[3], small, 'the frame after a skipped tail starts in the right place')
  })

  it('keeps an unfinished frame until the rest arrives', () => {
    assert.deepEqual(heads([stream.subarray(0, 10)]), [])
    assert.deepEqual(heads([stream.subarray(0, 10), stream.subarray(10)]).length, 4)
  })

  describe('between our client and a broker', () => {
    let broker: BrokerProcess
    let recorder: ProtocolRecorder
    before(async () => {
      recorder = await ProtocolRecorder.start({ ignoreClientId: 'not-recorded' })
      broker = await startBroker({ env: { TRIBUTARY_ADVERTISED_PORT: String(recorder.port) } })
      recorder.forwardTo(broker.kafkaPort)
    })
    after(async () => {
      await recorder.close()
      await broker.stop()
      await removeDataDir(broker.dataDir)
    })

    it('records each API and version a client sent, with its client id, and what the ' +
      'broker advertised', async () => {
      const client = new KafkaClient({
        bootstrap: `127.0.0.1:${recorder.port}`, clientId: 'probe',
      })
      try {
        await client.createTopic('recorded', { partitions: 2 })
        await client.metadata(['recorded'])
      } finally {
        await client.close()
      }
      const ignored = new KafkaClient({
        bootstrap: `127.0.0.1:${recorder.port}`, clientId: 'not-recorded',
      })
      try {
        await ignored.deleteTopic('recorded')
      } finally {
        await ignored.close()
      }
      const recording = recorder.recording()
      const names = new Set(recording.used.map(use => use.name))
      assert.ok(names.has('ApiVersions') && names.has('CreateTopics') && names.has('Metadata'),
        [...names].join())
      assert.ok(!names.has('DeleteTopics'), 'the ignored client id is not recorded')
      for (const use of recording.used) assert.deepEqual(use.clientIds, ['probe'])
      assert.ok(recording.advertised.some(api => api.name === 'Metadata'))
      assert.deepEqual(recording.beyondAdvertised, [])
      assert.ok(recording.connections >= 2)
    })
  })
})
