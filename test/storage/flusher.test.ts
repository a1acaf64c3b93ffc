/**
 * The group-commit flusher's round scheduling, with fake logs whose fdatasyncs the test
 * completes by hand: appends that arrive during a round coalesce into the next, which starts
 * only once every log of the round has finished (issue #18 measured the alternative, pipelined
 * rounds, and kept this; bench/README.md). A seeded run checks the invariants over random
 * arrivals and fsync completions.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GroupCommitFlusher, type FlushTarget, type RoundBarrier } from '../../src/storage/flusher.js'
import { seededRandom } from '../support/seeded-random.js'
import { ManualClock } from '../support/manual-clock.js'

/** A log whose round writes at once and whose fdatasync ends when the test says. */
class FakeLog implements FlushTarget {
  readonly relaxed = false
  rounds = 0
  inRound = false
  syncs: Array<() => void> = []
  constructor (readonly name: string, readonly onStart: (log: FakeLog) => void = () => undefined) {}

  async flushRound (barrier?: RoundBarrier): Promise<void> {
    assert.equal(this.inRound, false, `${this.name}: rounds of one log never overlap`)
    this.inRound = true
    this.rounds++
    this.onStart(this)
    barrier?.written()
    await barrier?.allWritten
    await new Promise<void>(resolve => { this.syncs.push(resolve) })
    this.inRound = false
  }

  /** Completes the oldest fdatasync in flight. */
  sync (): void {
    const next = this.syncs.shift()
    assert.ok(next !== undefined, `${this.name} has an fdatasync in flight`)
    next()
  }
}

const turns = async (count = 3): Promise<void> => {
  for (let i = 0; i < count; i++) await new Promise<void>(resolve => setImmediate(resolve))
}

describe('GroupCommitFlusher rounds', () => {
  it('appends during a round wait for the whole round, then coalesce into one', async () => {
    const flusher = new GroupCommitFlusher(new ManualClock(), 1 << 20)
    const a = new FakeLog('a')
    const b = new FakeLog('b')
    flusher.markDirty(a)
    await turns()
    flusher.markDirty(b)
    await turns()
    assert.equal(b.rounds, 0, 'b coalesces into the next round')
    flusher.markDirty(a)
    a.sync()
    await turns()
    assert.equal(b.rounds, 1)
    assert.equal(a.rounds, 2, 'a and b share the next round')
    assert.equal(flusher.rounds, 2)
    b.sync()
    a.sync()
    await flusher.idle()
  })

  it('keeps its invariants over random arrivals and fsync completions', async () => {
    const seed = Number(process.env.FLUSHER_SEED ?? Date.now() % 1_000_000)
    console.log(`flusher simulation seed ${seed} (replay with FLUSHER_SEED=${seed})`)
    const random = seededRandom(seed)
    const flusher = new GroupCommitFlusher(new ManualClock(), 1 << 20)
    let running = 0
    const logs: FakeLog[] = []
    const roundOf = new Map<FakeLog, number>()
    for (let i = 0; i < 4; i++) {
      logs.push(new FakeLog(`log${i}`, log => {
        running++
        roundOf.set(log, flusher.rounds)
        // A round starts only once the previous one has ended, so every log in a round at
        // the same time is in the same round.
        for (const other of logs) {
          if (other !== log && other.inRound) {
            assert.equal(roundOf.get(other), flusher.rounds,
              `seed ${seed}: ${log.name} started while an earlier round ran`)
          }
        }
      }))
    }
    const marked = new Map<FakeLog, number>()
    for (let step = 0; step < 400; step++) {
      const log = logs[Math.floor(random() * logs.length)] as FakeLog
      if (random() < 0.5) {
        flusher.markDirty(log)
        marked.set(log, log.rounds)
      } else if (log.syncs.length > 0) {
        log.sync()
        running--
      }
      if (random() < 0.3) await turns(1)
    }
    // Drain: every fsync completes, and every log marked dirty got a round after the mark.
    for (let i = 0; i < 50 && logs.some(l => l.inRound || l.syncs.length > 0); i++) {
      for (const log of logs) while (log.syncs.length > 0) { log.sync(); running-- }
      await turns()
    }
    await flusher.idle()
    assert.equal(running, 0, `seed ${seed}: every round ended`)
    for (const [log, rounds] of marked) {
      assert.ok(log.rounds > rounds, `seed ${seed}: ${log.name} was flushed after its mark`)
    }
  })
})
