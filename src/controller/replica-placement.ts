/**
 * Replica placement for new partitions: Kafka's AdminUtils.assignReplicasToBrokers (the
 * algorithm behind `kafka-topics --create` and ZooKeeper-era controllers). Replicas and leaders
 * spread evenly over the live brokers: partition p's first replica (its preferred leader) is
 * broker (p + start) mod n, the followers step from it by a shift that grows every n partitions,
 * so no two partitions of a round share a follower pattern.
 *
 * Rack-aware when every live broker has `broker.rack` (Kafka refuses a mix unless told to
 * ignore racks; Tributary then places rack-unaware): the brokers are ordered alternating racks,
 * and each further replica goes to a rack without one of this partition's replicas while one
 * exists (AdminUtils.assignReplicasToBrokersRackAware).
 *
 * Pure: the caller passes `start` and `shift` (Kafka draws both at random) so tests are exact.
 */
import { assert } from '../util/assert.js'

export interface PlacementBroker {
  brokerId: number
  rack: string | null
}

export interface PlacementRequest {
  brokers: readonly PlacementBroker[]
  partitions: number
  replicationFactor: number
  /** The id of the first new partition (CreatePartitions starts after the existing ones). */
  firstPartitionId: number
  /** Kafka's fixedStartIndex / random start, in [0, brokers). */
  start: number
  /** Kafka's random nextReplicaShift, in [0, brokers). */
  shift: number
}

/** The replica list (preferred leader first) of each new partition, in partition order. */
export function placeReplicas (request: PlacementRequest): number[][] {
  const { brokers, replicationFactor } = request
  // The controller refuses a replication factor above the live broker count before placing.
  assert(replicationFactor >= 1 && replicationFactor <= brokers.length,
    'replication factor within the live broker count')
  // Rack-unaware placement is the rack-aware one with every broker in the same rack: the
  // alternated order is then the id order and every shifted broker is free, so the followers
  // are exactly AdminUtils.assignReplicasToBrokersRackUnaware's.
  const rackAware = brokers.every(broker => broker.rack !== null)
  return place(request, rackAware
    ? brokers
    : brokers.map(broker => ({ brokerId: broker.brokerId, rack: '' })))
}

function replicaIndex (first: number, secondShift: number, index: number, n: number): number {
  const shift = 1 + (secondShift + index) % (n - 1)
  return (first + shift) % n
}

/** Kafka's getRackAlternatedBrokerList: one broker of each rack in turn, racks sorted. */
function rackAlternated (brokers: readonly PlacementBroker[]): PlacementBroker[] {
  const byRack = new Map<string, PlacementBroker[]>()
  for (const broker of [...brokers].sort((a, b) => a.brokerId - b.brokerId)) {
    const rack = broker.rack as string
    byRack.set(rack, [...(byRack.get(rack) ?? []), broker])
  }
  const racks = [...byRack.keys()].sort()
  const ordered: PlacementBroker[] = []
  for (let round = 0; ordered.length < brokers.length; round++) {
    for (const rack of racks) {
      const broker = byRack.get(rack)?.[round]
      if (broker !== undefined) ordered.push(broker)
    }
  }
  return ordered
}

/** AdminUtils.assignReplicasToBrokersRackAware over `brokers`, every one with a rack. */
function place (request: PlacementRequest, brokers: readonly PlacementBroker[]): number[][] {
  const ordered = rackAlternated(brokers)
  const n = ordered.length
  const rackCount = new Set(ordered.map(broker => broker.rack)).size
  let shift = request.shift
  const assignments: number[][] = []
  for (let i = 0; i < request.partitions; i++) {
    const partitionId = request.firstPartitionId + i
    if (partitionId > 0 && partitionId % n === 0) shift++
    const first = (partitionId + request.start) % n
    const leader = ordered[first] as PlacementBroker
    const replicas = [leader.brokerId]
    const racks = new Set([leader.rack])
    let k = 0
    while (replicas.length < request.replicationFactor) {
      // The shifts visit every other broker within n - 1 steps, and racks repeat only once
      // each rack has a replica, so a free broker is always found.
      assert(k < n * n, 'rack-aware placement finds a broker')
      const broker = ordered[replicaIndex(first, shift * rackCount, k, n)] as PlacementBroker
      k++
      const rackFree = !racks.has(broker.rack) || racks.size === rackCount
      const brokerFree = !replicas.includes(broker.brokerId) || replicas.length === n
      if (rackFree && brokerFree) {
        replicas.push(broker.brokerId)
        racks.add(broker.rack)
      }
    }
    assignments.push(replicas)
  }
  return assignments
}
