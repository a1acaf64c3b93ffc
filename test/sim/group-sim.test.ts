/**
 * Seeded simulations of one consumer group (test/sim/group-sim.ts): joins, leaves, crashes,
 * stalls past the session and rebalance timeouts, static restarts and commits interleaved with
 * rebalances, with invariants after every event and a final settle. GROUP_SEED=<n> replays
 * one seed; GROUP_SIM_RUNS sets how many random seeds run besides the fixed ones.
 */
import { it } from 'node:test'
import { simulateGroup } from './group-sim.js'

const FIXED_SEEDS = [1, 2, 3, 42, 1234, 99_999]

it('keeps one leader per generation, disjoint assignments and replay equality for fixed seeds',
  () => {
    for (const seed of FIXED_SEEDS) simulateGroup(seed)
  })

it('keeps its invariants and settles for random seeds', () => {
  if (process.env.GROUP_SEED !== undefined) return simulateGroup(Number(process.env.GROUP_SEED))
  const base = Date.now() % 1_000_000_000
  const runs = Number(process.env.GROUP_SIM_RUNS ?? 40)
  console.log(`group simulation: seeds ${base}..${base + runs - 1}`)
  for (let run = 0; run < runs; run++) simulateGroup(base + run)
})
