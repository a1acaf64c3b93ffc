/**
 * Seeded simulations of one replicated partition (test/sim/replication-sim.ts): produces with
 * acks=all, flushes, failed leader fsyncs (the tail cut, followers having copied it), follower
 * fetches, ISR shrinks and expands through a controller that
 * checks epochs, crashes that lose unflushed data, restarts and elections, with the high
 * watermark and ISR invariants checked after every event. REPLICATION_SEED=<n> replays one
 * seed; REPLICATION_SIM_RUNS sets how many random seeds run besides the fixed ones.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { simulateReplication } from './replication-sim.js'

const FIXED_SEEDS = [1, 2, 3, 42, 1234, 99_999]

it('keeps the high watermark and ISR invariants for fixed seeds', () => {
  const totals = { acknowledged: 0, failedFlushes: 0, elections: 0, shrinks: 0, expands: 0 }
  for (const seed of FIXED_SEEDS) {
    const result = simulateReplication(seed)
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += result[key]
  }
  // The runs must exercise what they claim to check.
  assert.ok(totals.acknowledged > 100 && totals.failedFlushes > 10 && totals.elections > 10 &&
    totals.shrinks > 10 && totals.expands > 10, JSON.stringify(totals))
})

it('keeps the high watermark and ISR invariants for random seeds', () => {
  if (process.env.REPLICATION_SEED !== undefined) {
    simulateReplication(Number(process.env.REPLICATION_SEED))
    return
  }
  const base = Date.now() % 1_000_000_000
  const runs = Number(process.env.REPLICATION_SIM_RUNS ?? 30)
  console.log(`replication simulation: seeds ${base}..${base + runs - 1}`)
  for (let run = 0; run < runs; run++) simulateReplication(base + run)
})
