/**
 * Writer.limitTo: a response encoder stops at its byte limit on every write path (scratch
 * writes, referenced large buffers, tagged fields inserted from a fork) before allocating
 * past it, and a writer without a limit is unbounded.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MessageTooLargeError, Writer } from '../../src/protocol/writer.js'

describe('Writer.limitTo', () => {
  it('lets a message reach its limit exactly and refuses the byte past it', () => {
    const writer = new Writer().limitTo(8)
    writer.int32(1).int32(2)
    assert.equal(writer.size, 8)
    assert.throws(() => writer.int8(3), MessageTooLargeError)
    assert.equal(writer.size, 8, 'the refused write left nothing behind')
  })

  it('counts bytes appended by reference', () => {
    const writer = new Writer().limitTo(4096)
    writer.rawReference(Buffer.alloc(4000))
    assert.throws(() => writer.rawReference(Buffer.alloc(2000)), MessageTooLargeError)
    assert.equal(writer.size, 4000)
  })

  it('counts a tagged field written apart when it is inserted', () => {
    const writer = new Writer().limitTo(64)
    const field = writer.fork()
    field.raw(Buffer.alloc(100))
    assert.throws(() => writer.taggedFields(new Map([[0, field.toBuffer()]])),
      MessageTooLargeError)
  })

  it('has no limit unless given one', () => {
    const writer = new Writer()
    writer.rawReference(Buffer.alloc(1 << 20))
    assert.equal(writer.size, 1 << 20)
  })
})
