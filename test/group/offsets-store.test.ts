/**
 * The offsets store: msgpackr records with Kafka's key versions round-trip, anything else is
 * skipped on replay instead of thrown, groups land on Kafka's partition, and appends made while
 * one is in flight share the next append in call order.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Packr } from 'msgpackr'
import type { GroupRecord } from '../../src/group/group-records.js'
import {
  decodeRecord, encodeRecord, javaStringHash, OffsetsLoadError, OffsetsStore, partitionForGroup,
  type OffsetsLog,
} from '../../src/group/offsets-store.js'

const RECORDS: GroupRecord[] = [
  { kind: 'offset', groupId: 'g', topic: 't', partition: 3, value: { offset: 42,
    leaderEpoch: 5, metadata: 'meta', commitTimestampMs: 1000, expireTimestampMs: null } },
  { kind: 'offset', groupId: 'g', topic: 't', partition: 4, value: null },
  { kind: 'group', groupId: 'g', value: { protocolType: 'consumer', generationId: 7,
    protocolName: 'range', leaderId: 'm1', currentStateTimestampMs: 99, members: [{
      memberId: 'm1', groupInstanceId: 'i1', clientId: 'c', clientHost: '/1.2.3.4',
      sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, subscription: Buffer.from([1, 2]),
      assignment: Buffer.from([3]) }] } },
  { kind: 'group', groupId: 'g', value: null },
]

it('round-trips offset and group records, tombstones included', () => {
  for (const record of RECORDS) {
    const { key, value } = encodeRecord(record)
    assert.deepEqual(decodeRecord(key, value), record)
  }
})

it('writes keys with Kafka\'s key versions: 1 for offsets, 2 for group metadata', () => {
  const packr = new Packr({ useRecords: false })
  assert.equal(packr.unpack(encodeRecord(RECORDS[0] as GroupRecord).key).version, 1)
  assert.equal(packr.unpack(encodeRecord(RECORDS[2] as GroupRecord).key).version, 2)
})

it('refuses garbage and wrongly typed records without throwing', () => {
  const packr = new Packr({ useRecords: false })
  assert.equal(decodeRecord(Buffer.from([0xc1, 0xff]), null), undefined)
  assert.equal(decodeRecord(packr.pack({ version: 1, group: 'g', topic: 't', partition: 'x' }),
    null), undefined)
  assert.equal(decodeRecord(packr.pack({ version: 2, group: 'g' }),
    packr.pack({ protocolType: 'consumer', generation: 1 })), undefined)
  assert.equal(decodeRecord(packr.pack({ version: 9, group: 'g' }), null), undefined)
})

it('places a group on abs(String.hashCode) modulo the partition count, as Kafka', () => {
  assert.equal(javaStringHash('hello'), 99162322)
  assert.equal(javaStringHash('polygenelubricants'), -2147483648)
  assert.equal(partitionForGroup('hello', 50), 99162322 % 50)
  assert.equal(partitionForGroup('polygenelubricants', 50), 0, 'Utils.abs(MIN_VALUE) is 0')
})

it('batches appends made while one is in flight, in call order, and stops at a bad record',
  async () => {
    const appended: { key: Buffer, value: Buffer | null }[][] = []
    let release: () => void = () => undefined
    const gate = new Promise<void>(resolve => { release = resolve })
    const log: OffsetsLog = {
      partitionCount: 1,
      async append (_partition, records) {
        if (appended.length === 0) await gate
        appended.push(records)
      },
      async * replay () {
        for (const batch of appended) yield * batch
        yield { key: Buffer.from('not msgpack of ours'), value: null }
      },
    }
    const store = new OffsetsStore(log)
    const first = store.append(0, [RECORDS[0] as GroupRecord])
    const rest = [store.append(0, [RECORDS[1] as GroupRecord]),
      store.append(0, [RECORDS[2] as GroupRecord])]
    release()
    await Promise.all([first, ...rest])
    assert.deepEqual(appended.map(batch => batch.length), [1, 2], 'the two waiting share one')
    const replayed: GroupRecord[] = []
    await assert.rejects(async () => {
      for await (const record of store.replay(0)) replayed.push(record)
    }, (error: unknown) => {
      assert.ok(error instanceof OffsetsLoadError)
      assert.match(error.message,
        /__consumer_offsets-0: the record at offset unknown is not a group/)
      return true
    }, 'a record that does not decode stops the load instead of being skipped')
    assert.deepEqual(replayed, RECORDS.slice(0, 3))
  })
