/**
 * Compaction crash test: a child appends keyed records while the cleaner compacts back to back
 * (compaction-writer.ts); the parent SIGKILLs it at seeded random moments, so kills land at
 * every step of a swap (`.cleaned` written, renamed `.swap`, old segments renamed `.deleted`,
 * the swap renamed into place). After each kill the log is reopened and must show: no
 * `.cleaned`, `.swap` or `.deleted` file; segment files that pass the strict validator in
 * compacted mode; increasing offsets; every record read equal to what was acknowledged at its
 * offset; and, for every key, a last record at or after its last acknowledged one (compaction
 * never removes a key's latest record). Prints `N passed, M failed`. CRASH_SEED replays a run.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { iterateRecords } from '../../src/records/batch.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { LogManager } from '../../src/storage/log-manager.js'
import { CrashTally } from '../support/crash-tally.js'
import { validatePartitionDir } from '../support/segment-validator.js'
import { seededRandom } from '../support/seeded-random.js'
import { runWriterUntilKilled } from './killed-writer.js'

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'compaction-writer.js')
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 10)

const tally = new CrashTally(`compaction crash: ${CYCLES} SIGKILL cycles, CRASH_SEED=${SEED}`)
after(() => tally.print())

interface Acked { key: string, value: string }

async function runAndKill (dataDir: string, cycle: number, killAfterMs: number,
  acked: Map<number, Acked>): Promise<void> {
  await runWriterUntilKilled(WRITER, [dataDir, String(cycle)], killAfterMs, line => {
    const match = /^ACK (\d+) (\S+) (\S+)$/.exec(line)
    if (match !== null) {
      acked.set(Number(match[1]), { key: match[2] as string, value: match[3] as string })
    }
  })
}

async function verify (dataDir: string, acked: Map<number, Acked>): Promise<string[]> {
  const problems: string[] = []
  const partition = path.join(dataDir, 'crash-0')
  const manager = await LogManager.open({ dataDir, nodeId: 1, cleaner: { enable: false } })
  try {
    for (const name of await readdir(partition)) {
      if (/\.(cleaned|swap|deleted)$/.test(name)) problems.push(`${name} left after the start`)
    }
    const log = manager.getLog('crash', 0)
    assert.ok(log !== undefined)
    const lastOfKey = new Map<string, number>()
    let offset = log.logStartOffset
    let previous = -1
    while (offset < log.logEndOffset) {
      const { records } = await log.read(offset, 1 << 20)
      if (records.length === 0) break
      for await (const record of iterateRecords(records)) {
        if (record.offset <= previous) problems.push(`offset ${record.offset} after ${previous}`)
        previous = record.offset
        const key = record.key?.toString() ?? ''
        const ack = acked.get(record.offset)
        if (ack !== undefined && (ack.key !== key || ack.value !== record.value?.toString())) {
          problems.push(`offset ${record.offset} holds ${key}, acknowledged as ${ack.key}`)
        }
        lastOfKey.set(key, record.offset)
      }
      let position = 0
      while (position < records.length) {
        offset = readInt64(records, position) + records.readInt32BE(position + 23) + 1
        position += records.readInt32BE(position + 8) + 12
      }
    }
    const lastAcked = new Map<string, number>()
    for (const [ackOffset, ack] of acked) {
      lastAcked.set(ack.key, Math.max(lastAcked.get(ack.key) ?? -1, ackOffset))
    }
    for (const [key, ackOffset] of lastAcked) {
      const last = lastOfKey.get(key) ?? -1
      if (last < ackOffset) problems.push(`${key}: last record ${last}, acknowledged ${ackOffset}`)
    }
  } finally {
    await manager.close()
  }
  const validation = await validatePartitionDir(partition, { mode: 'strict', compacted: true })
  problems.push(...validation.problems)
  return problems
}

describe(`compaction crash recovery (CRASH_SEED=${SEED})`, () => {
  it(`keeps every key's latest record and one version of each segment across ${CYCLES} ` +
    'SIGKILLs', async () => {
    const random = seededRandom(SEED)
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-compaction-crash-'))
    try {
      const acked = new Map<number, Acked>()
      let killedMidSwap = 0
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const killAfterMs = 50 + Math.floor(random() * 500)
        await runAndKill(dataDir, cycle, killAfterMs, acked)
        const left = await readdir(path.join(dataDir, 'crash-0')).catch(() => [])
        if (left.some(name => /\.(cleaned|swap)$/.test(name))) killedMidSwap++
        tally.record(`cycle ${cycle} (kill after ${killAfterMs} ms)`, await verify(dataDir, acked))
      }
      console.log(`compaction crash: ${killedMidSwap} of ${CYCLES} kills left a .cleaned or ` +
        '.swap file')
      assert.deepEqual(tally.failures, [])
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
