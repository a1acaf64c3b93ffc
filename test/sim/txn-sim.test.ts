/**
 * Seeded simulations of the transaction coordinator's state machine (test/sim/txn-sim.ts):
 * producers and zombies, timeouts, coordinator crashes and moves (with late markers from
 * deposed coordinators, fenced by coordinator epoch), with Kafka's transaction
 * invariants checked as the run goes and after a final calm phase. TXN_SEED=<n> replays one
 * seed; TXN_SIM_RUNS sets how many random seeds run besides the fixed ones.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { simulateTransactions } from './txn-sim.js'

// 511434276: without the partitions' coordinator-epoch fence, a deposed coordinator's late
// marker lands inside the producer's next transaction and splits its outcome.
const FIXED_SEEDS = [1, 2, 3, 42, 1234, 99_999, 511_434_276]

it('keeps the transaction invariants for fixed seeds, with commits, aborts and crashes', () => {
  let commits = 0
  let aborts = 0
  let crashes = 0
  let late = 0
  let fenced = 0
  for (const seed of FIXED_SEEDS) {
    const result = simulateTransactions(seed)
    commits += result.commits
    aborts += result.aborts
    crashes += result.crashes
    late += result.lateMarkers
    fenced += result.fencedMarkers
  }
  // The runs must exercise what they claim to check.
  assert.ok(commits > 10 && aborts > 5 && crashes > 10, `commits ${commits}, aborts ${aborts}, ` +
    `coordinator crashes/moves ${crashes}`)
  assert.ok(late > 0 && fenced > 0, `late markers from deposed coordinators ${late}, ` +
    `fenced ${fenced}`)
})

it('keeps the transaction invariants for random seeds', () => {
  if (process.env.TXN_SEED !== undefined) {
    simulateTransactions(Number(process.env.TXN_SEED))
    return
  }
  const base = Date.now() % 1_000_000_000
  const runs = Number(process.env.TXN_SIM_RUNS ?? 20)
  console.log(`transaction simulation: seeds ${base}..${base + runs - 1}`)
  for (let run = 0; run < runs; run++) simulateTransactions(base + run)
})
