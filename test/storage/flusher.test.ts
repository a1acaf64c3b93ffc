/**
 * The group-commit flusher's round scheduling, with fake logs whose fdatasyncs the test
 * completes by hand: a log dirtied while idle starts a round at once, whatever other logs'
 * rounds are doing; a log dirtied during its own round waits for every round in progress and
 * starts with the others that waited, so logs under load go round by round together (issue
 * #18, bench/README.md). A seeded run checks the
 * invariants over random arrivals and fsync completions: a log is never in two rounds, a log
 * dirtied while idle starts within a turn, every dirtied log is flushed, every round ends.
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
  /** Set by the test when it marks the log during a round: the flusher holds it after. */
  markedInRound = false
  syncs: Array<() => void> = []
  constructor (readonly name: string, readonly onStart: (log: FakeLog) => void = () => undefined) {}

  async flushRound (barrier?: RoundBarrier): Promise<void> {
    assert.equal(this.inRound, false, `${this.name}: rounds of one log never overlap`)
    this.inRound = true
    this.rounds++
    this.markedInRound = false
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
  it('starts a round for a log dirtied while idle, without waiting for other logs\' rounds', async () => {
    const flusher = new GroupCommitFlusher(new ManualClock(), 1 << 20)
    const a = new FakeLog('a')
    const b = new FakeLog('b')
    flusher.markDirty(a)
    await turns()
    flusher.markDirty(b)
    await turns()
    assert.equal(b.rounds, 1, 'b does not wait for a\'s fdatasync')
    assert.equal(flusher.rounds, 2)
    flusher.markDirty(a)
    await turns()
    assert.equal(a.rounds, 1, 'a dirtied during its own round waits for it')
    a.sync()
    await turns()
    assert.equal(a.rounds, 1, 'a is under load: it waits for the rounds in progress (b\'s)')
    flusher.markDirty(a)
    await turns()
    assert.equal(a.rounds, 1, 'more appends do not start a held log early')
    b.sync()
    // Microtasks only: a released log starts at once, with no event-loop turn in between.
    for (let i = 0; i < 20; i++) await Promise.resolve()
    assert.equal(a.rounds, 2, 'and starts as soon as they have ended')
    a.sync()
    await flusher.idle()
  })

  it('starts logs whose rounds end together in one round', async () => {
    const flusher = new GroupCommitFlusher(new ManualClock(), 1 << 20)
    const logs = [new FakeLog('a'), new FakeLog('b'), new FakeLog('c')]
    for (const log of logs) flusher.markDirty(log)
    await turns()
    assert.equal(flusher.rounds, 1, 'one turn\'s dirty logs share a round')
    for (const log of logs) flusher.markDirty(log)
    for (const log of logs) log.sync()
    await turns()
    assert.equal(flusher.rounds, 2, 'their next round is one round too')
    assert.deepEqual(logs.map(log => log.rounds), [2, 2, 2])
    for (const log of logs) log.sync()
    await flusher.idle()
  })

  it('keeps its invariants over random arrivals and fsync completions', async () => {
    const seed = Number(process.env.FLUSHER_SEED ?? Date.now() % 1_000_000)
    console.log(`flusher simulation seed ${seed} (replay with FLUSHER_SEED=${seed})`)
    const random = seededRandom(seed)
    const flusher = new GroupCommitFlusher(new ManualClock(), 1 << 20)
    let running = 0
    /** Logs dirtied while idle that have not started a round yet. */
    const waiting = new Set<FakeLog>()
    const logs: FakeLog[] = []
    for (let i = 0; i < 4; i++) {
      logs.push(new FakeLog(`log${i}`, log => {
        running++
        waiting.delete(log)
      }))
    }
    const marked = new Map<FakeLog, number>()
    for (let step = 0; step < 400; step++) {
      const log = logs[Math.floor(random() * logs.length)] as FakeLog
      if (random() < 0.5) {
        if (log.inRound) log.markedInRound = true
        else if (!log.markedInRound) waiting.add(log)
        flusher.markDirty(log)
        marked.set(log, log.rounds)
      } else if (log.syncs.length > 0) {
        log.sync()
        running--
      }
      if (random() < 0.3) {
        await turns(2)
        // A log idle when dirtied (not held after a round it was dirtied in) never waits for
        // rounds of other logs, which are all still waiting for their fdatasyncs here.
        assert.deepEqual([...waiting].map(l => l.name), [],
          `seed ${seed}: logs dirtied while idle started a round within a turn`)
      }
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
