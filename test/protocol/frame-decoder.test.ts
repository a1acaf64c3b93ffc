import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FrameDecoder, FrameTooLargeError } from '../../src/protocol/frame-decoder.js'

function framed (frames: Buffer[]): Buffer {
  return Buffer.concat(frames.flatMap(frame => {
    const size = Buffer.alloc(4)
    size.writeInt32BE(frame.length)
    return [size, frame]
  }))
}

describe('FrameDecoder', () => {
  it('reassembles frames split at any byte', () => {
    const frames = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(3000, 7)]
    const stream = framed(frames)
    for (const step of [1, 3, 7, 1000, stream.length]) {
      const decoder = new FrameDecoder(4096)
      const got: Buffer[] = []
      for (let at = 0; at < stream.length; at += step) {
        got.push(...decoder.push(stream.subarray(at, at + step)))
      }
      assert.deepEqual(got.map(frame => frame.toString('hex')),
        frames.map(frame => frame.toString('hex')))
    }
  })

  it('rejects frames above the limit and negative sizes before buffering their bodies', () => {
    assert.throws(() => new FrameDecoder(100).push(Buffer.from([0, 0, 1, 0])),
      FrameTooLargeError)
    assert.throws(() => new FrameDecoder(100).push(Buffer.from([0xff, 0xff, 0xff, 0xff])),
      FrameTooLargeError)
  })
})

describe('FrameDecoder memory', () => {
  it('allocates nothing for an announced size until the bytes arrive', () => {
    const before = process.memoryUsage().arrayBuffers
    const decoders = Array.from({ length: 200 }, () => new FrameDecoder(200 * 1024 * 1024))
    const size = Buffer.alloc(4)
    size.writeInt32BE(100 * 1024 * 1024)
    for (const decoder of decoders) {
      assert.deepEqual(decoder.push(size), [])
      assert.equal(decoder.bufferedBytes, 4)
    }
    // The old decoder allocated 100 MiB per decoder here: 20 GB of array buffers.
    const grown = process.memoryUsage().arrayBuffers - before
    assert.ok(grown < 8 * 1024 * 1024, `array buffers grew by ${grown} bytes`)
  })

  it('hands out frames one at a time, leaving the rest buffered', () => {
    const decoder = new FrameDecoder(4096)
    decoder.append(framed([Buffer.from('a'), Buffer.from('bc'), Buffer.from('def')]))
    assert.equal(decoder.next()?.toString(), 'a')
    assert.equal(decoder.bufferedBytes, 4 + 2 + 4 + 3)
    assert.equal(decoder.next()?.toString(), 'bc')
    assert.equal(decoder.next()?.toString(), 'def')
    assert.equal(decoder.next(), undefined)
    assert.equal(decoder.bufferedBytes, 0)
  })

  it('merges a trickle of one-byte chunks into few buffers and still decodes', () => {
    const payload = Buffer.alloc(5000, 9)
    const stream = framed([payload])
    const decoder = new FrameDecoder(8192)
    for (let at = 0; at < stream.length - 1; at++) decoder.append(stream.subarray(at, at + 1))
    assert.equal(decoder.next(), undefined)
    decoder.append(stream.subarray(stream.length - 1))
    assert.deepEqual(decoder.next(), payload)
  })
})
