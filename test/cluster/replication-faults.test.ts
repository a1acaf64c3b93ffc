/**
 * The replication fault run (test/cluster/replication-faults.ts) in its CI size: 5 leader
 * kills and one of each other fault, about three minutes. The long run:
 *
 *   REPLICATION_FAULTS_LONG=1 node --test dist/test/cluster/replication-faults.test.js
 *
 * (20 kills, 3 of each other fault). REPLICATION_FAULTS_SEED replays a run's choices;
 * REPLICATION_FAULTS_CYCLES sets the number of kills; REPLICATION_FAULTS_KINDS=kill,kill-two
 * runs only those faults; REPLICATION_FAULTS_LOOPS sets the producer's in-flight requests;
 * REPLICATION_FAULTS_VERBOSE=1 prints the brokers' output after a failure.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { etcdAvailable } from '../support/etcd-process.js'
import { FAULT_KINDS, runReplicationFaults, type FaultKind } from './replication-faults.js'

const skip = etcdAvailable() ? false : 'etcd is not on PATH (Debian package etcd-server)'
const long = process.env.REPLICATION_FAULTS_LONG !== undefined
const seed = Number(process.env.REPLICATION_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31))
const killCycles = Number(process.env.REPLICATION_FAULTS_CYCLES ?? (long ? 20 : 5))
const kinds = process.env.REPLICATION_FAULTS_KINDS?.split(',')
const unknownKinds = kinds?.filter(kind => !(FAULT_KINDS as readonly string[]).includes(kind))
if (unknownKinds !== undefined && unknownKinds.length > 0) {
  throw new Error(`REPLICATION_FAULTS_KINDS: unknown ${unknownKinds.join(', ')} ` +
    `(kinds: ${FAULT_KINDS.join(', ')})`)
}
const loops = process.env.REPLICATION_FAULTS_LOOPS === undefined
  ? undefined
  : Number(process.env.REPLICATION_FAULTS_LOOPS)

describe('replication under faults (3 brokers, RF=3, min.insync.replicas=2)', { skip }, () => {
  it(`loses no acknowledged write and keeps replicas identical (seed ${seed})`,
    { timeout: long ? 3_600_000 : 600_000 }, async () => {
      const results = await runReplicationFaults({
        seed, killCycles, otherCycles: long ? 3 : 1,
        ...(kinds === undefined ? {} : { kinds: kinds as FaultKind[] }), ...(loops === undefined ? {} : { loops }),
        log: line => console.log(line),
      })
      const failed = results.filter(r => !r.ok)
      assert.deepEqual(failed.map(r => `${r.name}: ${r.detail}`), [],
        `seed ${seed}: ${failed.length} of ${results.length} checks failed`)
    })
})
