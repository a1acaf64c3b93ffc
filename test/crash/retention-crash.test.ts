/**
 * Retention crash test: a child appends while retention deletes old segments back to back
 * (retention-writer.ts); the parent SIGKILLs it at seeded random moments, so kills land before,
 * between and after the `.deleted` renames and while renamed files wait for
 * file.delete.delay.ms. After each kill the log is reopened and must show: no `.deleted` file
 * and no index without its log left behind, segments that validate on disk (strict, after a
 * clean close), a log start offset at or after the first segment's base, and every
 * acknowledged batch at or after the log start offset present and byte-identical. Deletion
 * only ever takes whole segments from the front, so what stays is one contiguous range.
 * Prints `N passed, M failed`. CRASH_SEED replays a run; CRASH_CYCLES sets the cycles.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { LogManager } from '../../src/storage/log-manager.js'
import { storedBatchForId } from './storage-batches.js'
import { CrashTally } from '../support/crash-tally.js'
import { validatePartitionDir } from '../support/segment-validator.js'
import { seededRandom } from '../support/seeded-random.js'
import { runWriterUntilKilled } from './killed-writer.js'

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'retention-writer.js')
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 12)

const tally = new CrashTally(`retention crash: ${CYCLES} SIGKILL cycles, CRASH_SEED=${SEED}`)
after(() => tally.print())

/** Acknowledged batches: id → base offset. */
type Acks = Map<string, number>

async function runAndKill (dataDir: string, cycle: number, killAfterMs: number,
  deleteDelayMs: number): Promise<Acks> {
  const acked: Acks = new Map()
  await runWriterUntilKilled(WRITER, [dataDir, String(cycle), String(deleteDelayMs)],
    killAfterMs, line => {
      const match = /^ACK (\S+) (\d+)$/.exec(line)
      if (match !== null) acked.set(match[1] as string, Number(match[2]))
    })
  return acked
}

/** Reopens the log after a kill and checks it (see the module comment); problems as text. */
async function verify (dataDir: string, acked: Acks):
Promise<{ problems: string[], logStartOffset: number }> {
  const problems: string[] = []
  let logStartOffset = 0
  const partition = path.join(dataDir, 'crash-0')
  const manager = await LogManager.open({ dataDir, nodeId: 1 })
  try {
    const names = await readdir(partition)
    const logs = new Set(names.filter(name => name.endsWith('.log')))
    for (const name of names) {
      if (name.endsWith('.deleted')) problems.push(`${name} left after the start`)
      const index = /^(\d{20})\.(index|timeindex)$/.exec(name)
      if (index !== null && !logs.has(`${index[1] as string}.log`)) {
        problems.push(`${name} has no log`)
      }
    }
    const log = manager.getLog('crash', 0)
    assert.ok(log !== undefined)
    logStartOffset = log.logStartOffset
    const first = log.segmentBaseOffsets[0] as number
    if (log.logStartOffset < first) {
      problems.push(`log start ${log.logStartOffset} below the first segment ${first}`)
    }
    const byOffset = new Map<number, Buffer>()
    let offset = log.logStartOffset
    while (offset < log.logEndOffset) {
      const { records } = await log.read(offset, 1024 * 1024)
      if (records.length === 0) {
        problems.push(`read at ${offset} returned nothing`)
        break
      }
      for (const { position, size } of splitBatches(records)) {
        byOffset.set(readInt64(records, position), records.subarray(position, position + size))
        offset = readInt64(records, position) + records.readInt32BE(position + 23) + 1
      }
    }
    for (const [id, base] of acked) {
      if (base < log.logStartOffset) continue
      const stored = byOffset.get(base)
      if (stored === undefined) problems.push(`acknowledged batch ${id} at ${base} is missing`)
      else if (!stored.equals(storedBatchForId(id, base))) {
        problems.push(`acknowledged batch ${id} at ${base} differs`)
      }
    }
  } finally {
    await manager.close()
  }
  const validation = await validatePartitionDir(partition, { mode: 'strict' })
  problems.push(...validation.problems)
  return { problems, logStartOffset }
}

describe(`retention crash recovery (CRASH_SEED=${SEED})`, () => {
  it(`deletes whole old segments and nothing else across ${CYCLES} SIGKILLs`, async () => {
    const random = seededRandom(SEED)
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-retention-crash-'))
    try {
      const acked: Acks = new Map()
      let killedMidDeletion = 0
      let logStartOffset = 0
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const killAfterMs = Math.floor(random() * 200)
        const deleteDelayMs = Math.floor(random() * 3) * 20
        for (const [id, base] of await runAndKill(dataDir, cycle, killAfterMs, deleteDelayMs)) {
          acked.set(id, base)
        }
        const left = await readdir(path.join(dataDir, 'crash-0')).catch(() => [])
        if (left.some(name => name.endsWith('.deleted'))) killedMidDeletion++
        const { problems, logStartOffset: start } = await verify(dataDir, acked)
        if (start < logStartOffset) problems.push(`log start went back to ${start}`)
        logStartOffset = start
        tally.record(`cycle ${cycle} (kill after ${killAfterMs} ms, delay ${deleteDelayMs} ms)`,
          problems)
      }
      console.log(`retention crash: ${killedMidDeletion} of ${CYCLES} kills left .deleted ` +
        `files; final log start offset ${logStartOffset}`)
      assert.deepEqual(tally.failures, [])
      assert.ok(logStartOffset > 0, 'retention deleted segments')
      assert.ok(tally.passed === CYCLES)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
