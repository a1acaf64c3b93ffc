/**
 * Replica placement is Kafka's AdminUtils.assignReplicasToBrokers: the expected assignments
 * below are the ones Kafka's own AdminRackAwareTest / ReplicationUtilsTest compute for the same
 * inputs (start index and shift fixed).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { placeReplicas } from '../../src/controller/replica-placement.js'

const brokers = (ids: number[], racks?: string[]): { brokerId: number, rack: string | null }[] =>
  ids.map((brokerId, index) => ({ brokerId, rack: racks?.[index] ?? null }))

describe('placeReplicas', () => {
  it('rack-unaware: leaders round-robin, followers shifted (Kafka AdminUtils example)', () => {
    // AdminUtils' doc example: 5 brokers, 10 partitions, RF 3, start 0, shift 0.
    const placed = placeReplicas({ brokers: brokers([0, 1, 2, 3, 4]), partitions: 10,
      replicationFactor: 3, firstPartitionId: 0, start: 0, shift: 0 })
    assert.deepEqual(placed, [
      [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1],
      [0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2],
    ])
  })

  it('spreads leaders and replicas evenly over the brokers', () => {
    const placed = placeReplicas({ brokers: brokers([1, 2, 3]), partitions: 30,
      replicationFactor: 2, firstPartitionId: 0, start: 2, shift: 1 })
    const leaders = new Map<number, number>()
    const replicas = new Map<number, number>()
    for (const assignment of placed) {
      assert.equal(new Set(assignment).size, 2, 'no broker twice in one partition')
      leaders.set(assignment[0] as number, (leaders.get(assignment[0] as number) ?? 0) + 1)
      for (const id of assignment) replicas.set(id, (replicas.get(id) ?? 0) + 1)
    }
    assert.deepEqual([...leaders.values()], [10, 10, 10])
    assert.deepEqual([...replicas.values()], [20, 20, 20])
  })

  it('rack-aware: every partition has replicas on distinct racks while racks remain', () => {
    const racks = ['a', 'a', 'b', 'b', 'c', 'c']
    const rackOf = new Map([1, 2, 3, 4, 5, 6].map((id, index) => [id, racks[index]]))
    const placed = placeReplicas({ brokers: brokers([1, 2, 3, 4, 5, 6], racks), partitions: 12,
      replicationFactor: 3, firstPartitionId: 0, start: 0, shift: 0 })
    for (const assignment of placed) {
      assert.equal(new Set(assignment.map(id => rackOf.get(id))).size, 3, String(assignment))
    }
    // The alternated order is a(1) b(3) c(5) a(2) b(4) c(6): leaders follow it.
    assert.deepEqual(placed.slice(0, 6).map(a => a[0]), [1, 3, 5, 2, 4, 6])
  })

  it('continues from the first new partition id (CreatePartitions)', () => {
    const all = placeReplicas({ brokers: brokers([1, 2, 3]), partitions: 6,
      replicationFactor: 2, firstPartitionId: 0, start: 1, shift: 2 })
    const tail = placeReplicas({ brokers: brokers([1, 2, 3]), partitions: 2,
      replicationFactor: 2, firstPartitionId: 4, start: 1, shift: 3 })
    assert.deepEqual(tail.map(a => a[0]), all.slice(4).map(a => a[0]))
  })
})
