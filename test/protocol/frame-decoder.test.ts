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
