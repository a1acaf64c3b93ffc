/**
 * The checks every client interop program's produce and group scenarios share. The programs
 * (Java, Go, Python) print the same steps with the same fields:
 *   produce:<codec>/produce  acks: [partition, offset] per record, in send order
 *   produce:<codec>/consume  records: [partition, offset, key, value, header n]
 *   group/three-members      assignments: { "1": [partitions], "2": ..., "3": ... }
 *   group/member-leaves      assignments: { "1": ..., "2": ... }
 *   group/consumed           records: [partition, offset, member], memberErrors: {}
 *   txn/...                  the transaction steps of transactionChecks (Java and Python)
 * Record i has key `key-<i % 17>`, value `<codec>-value-<i>-` + 'abcdefgh' × (i % 13) and a
 * header n = i.
 */
import assert from 'node:assert/strict'
import {
  CODEC_IDS, assertContiguous, okStep, storedBatches, type Codec, type OutcomeLog,
  type RecordedBroker, type StepLine,
} from './client-harness.js'

/** What the checks read once the suite's `before` has run the program. */
export interface ScenarioRun {
  steps: () => Map<string, StepLine>
  cluster: () => RecordedBroker
}

type Ack = [number, number]
type ReadRecord = [number, number, string, string, string]
type GroupRecord = [number, number, number]
interface Assignments { assignments: Record<string, number[]> }

export function recordValue (codec: Codec, index: number): string {
  return `${codec}-value-${index}-${'abcdefgh'.repeat(index % 13)}`
}

/** `records` records with `codec` into `topic` (3 partitions): acked, read back, stored. */
export function produceChecks (log: OutcomeLog, run: ScenarioRun, codec: Codec, topic: string,
  records: number, defaults: string, todo?: string): void {
  log.it(`produces ${records} records with ${defaults} and ${codec} compression at ` +
    'contiguous offsets', () => {
    const acks = okStep<{ acks: Ack[] }>(run.steps(), `produce:${codec}/produce`).acks
    assert.equal(acks.length, records)
    assert.deepEqual(new Set(acks.map(([partition]) => partition)), new Set([0, 1, 2]))
    assertContiguous(acks)
  }, todo)

  log.it(`reads every ${codec} record back at its acknowledged offset with key, value and ` +
    'header', () => {
    const acks = okStep<{ acks: Ack[] }>(run.steps(), `produce:${codec}/produce`).acks
    const read = okStep<{ records: ReadRecord[] }>(run.steps(), `produce:${codec}/consume`)
      .records
    assert.equal(read.length, records)
    const seen = new Set<number>()
    for (const [partition, offset, key, value, header] of read) {
      const index = Number(header)
      assert.ok(!seen.has(index), `record ${index} read twice`)
      seen.add(index)
      assert.deepEqual([partition, offset], acks[index], `record ${index}`)
      assert.equal(key, `key-${index % 17}`)
      assert.equal(value, recordValue(codec, index))
    }
  }, todo)

  log.it(`stores the ${codec} batches as sent: that codec and a producer id (idempotence)`,
    async () => {
      okStep(run.steps(), `produce:${codec}/produce`)
      for (const partition of [0, 1, 2]) {
        const batches = await storedBatches(run.cluster().client, topic, partition)
        assert.ok(batches.length > 0, `no batch in partition ${partition}`)
        for (const batch of batches) {
          assert.equal(batch.codec, CODEC_IDS[codec], `codec in partition ${partition}`)
          assert.ok(batch.producerId >= 0n, 'idempotent batches carry a producer id')
        }
      }
    }, todo)
}

/** A group of three members on 6 partitions, one leaving; 2 × phaseRecords consumed once. */
export function groupChecks (log: OutcomeLog, run: ScenarioRun, phaseRecords: number): void {
  log.it('gives a group of three members two of six partitions each', () => {
    const { assignments } = okStep<Assignments>(run.steps(), 'group/three-members')
    assert.deepEqual(Object.keys(assignments).sort(), ['1', '2', '3'])
    assert.deepEqual(Object.values(assignments).flat().sort(), [0, 1, 2, 3, 4, 5])
    for (const partitions of Object.values(assignments)) assert.equal(partitions.length, 2)
  })

  log.it('rebalances to three partitions each for the two members left when one leaves', () => {
    const { assignments } = okStep<Assignments>(run.steps(), 'group/member-leaves')
    assert.deepEqual(Object.keys(assignments).sort(), ['1', '2'])
    assert.deepEqual(Object.values(assignments).flat().sort(), [0, 1, 2, 3, 4, 5])
  })

  log.it('consumes every record of the group once, the leaver\'s partitions by the others',
    () => {
      const consumed = okStep<{ records: GroupRecord[], memberErrors: object }>(run.steps(),
        'group/consumed')
      assert.deepEqual(consumed.memberErrors, {})
      assert.equal(consumed.records.length, 2 * phaseRecords)
      assertContiguous(consumed.records.map(([partition, offset]) => [partition, offset]))
      const before = okStep<Assignments>(run.steps(), 'group/three-members').assignments
      const leaverPartitions = new Set(before['3'])
      const takenOver = consumed.records.filter(([partition, , member]) =>
        leaverPartitions.has(partition) && member !== 3)
      assert.ok(takenOver.length > 0, 'the leaver\'s partitions were consumed by the others')
    })
}

/**
 * The transaction scenario (topics <prefix>-txn, -txn-in, -txn-out): `fencedError` is the
 * client's name for PRODUCER_FENCED / INVALID_PRODUCER_EPOCH, `sendOffsets` its name for the
 * call that adds a group's offsets to a transaction (both only appear in the test titles and
 * assertions).
 */
export function transactionChecks (log: OutcomeLog, run: ScenarioRun, fencedError: string,
  sendOffsets: string): void {
  const committedValues = Array.from({ length: 10 }, (_, i) => `committed-${i}`)
  log.it('commits a transaction across two partitions', () => {
    assert.equal(okStep(run.steps(), 'txn/commit').committed, 10)
  })

  log.it('aborts a transaction', () => {
    assert.equal(okStep(run.steps(), 'txn/abort').aborted, 5)
  })

  log.it('fences a zombie: a second producer with the same transactional.id wins', () => {
    assert.equal(okStep(run.steps(), 'txn/fence').zombieError, fencedError)
  })

  log.it('aborts a transaction past transaction.timeout.ms: its commit then fails', () => {
    assert.equal(okStep(run.steps(), 'txn/timeout').commitError, fencedError)
  })

  log.it('a read_committed consumer sees only committed transactions', () => {
    const { values } = okStep<{ values: string[] }>(run.steps(), 'txn/read-committed')
    assert.deepEqual(values, [...committedValues, 'second'].sort())
  })

  log.it('a read_uncommitted consumer sees aborted records too', () => {
    const { values } = okStep<{ values: string[] }>(run.steps(), 'txn/read-uncommitted')
    const aborted = Array.from({ length: 5 }, (_, i) => `aborted-${i}`)
    assert.deepEqual(values, [...aborted, ...committedValues, 'second', 'timed-out'].sort())
  })

  log.it(`consume-transform-produce with ${sendOffsets} copies every record once`, () => {
    const ctp = okStep<{ copied: number, committed: Record<string, number>, output: string[] }>(
      run.steps(), 'txn/ctp')
    assert.equal(ctp.copied, 40)
    assert.deepEqual(ctp.committed, { 0: 20, 1: 20 })
    assert.deepEqual(ctp.output, Array.from({ length: 40 }, (_, i) => `INPUT-${i}`).sort())
  })
}
