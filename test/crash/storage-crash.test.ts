/**
 * Storage crash test (issue #2): a child appends and prints each offset once durable; the
 * parent SIGKILLs it at seeded random moments, reopens the log and checks that every
 * acknowledged batch is present, byte-identical and in order. Plus torn tails, garbage, and
 * missing or corrupt indexes. Set CRASH_SEED to replay a run, CRASH_CYCLES for more cycles.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFile, mkdtemp, readdir, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { splitBatches } from '../../src/records/batch.js'
import { readInt64 } from '../../src/records/batch-header.js'
import { LogManager } from '../../src/storage/log-manager.js'
import { storedBatchForId } from './storage-batches.js'
import { seededRandom } from '../support/seeded-random.js'

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'storage-writer.js')
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
const CYCLES = Number(process.env.CRASH_CYCLES ?? 20)


async function runAndKill (dataDir: string, cycle: number, killAfterMs: number):
Promise<Map<string, number>> {
  const child = spawn(process.execPath, [WRITER, dataDir, String(cycle)],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  const acked = new Map<string, number>()
  let buffered = ''
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += chunk.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', chunk => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        if (line === 'READY') setTimeout(() => { child.kill('SIGKILL'); resolve() }, killAfterMs)
        const match = /^ACK (\S+) (\d+)$/.exec(line)
        if (match !== null) acked.set(match[1] as string, Number(match[2]))
      }
    })
    void exited.then(() => reject(new Error(`writer exited early: ${stderr}`)))
  }).catch(error => { if (!String(error).includes('exited early') || acked.size === 0) throw error })
  await exited
  return acked
}

/** Reads the whole partition and checks every acknowledged batch byte for byte. */
async function verify (dataDir: string, acked: Map<string, number>): Promise<number> {
  const manager = await LogManager.open({ dataDir, nodeId: 1 })
  try {
    const log = manager.getLog('crash', 0)
    assert.ok(log !== undefined)
    const byOffset = new Map<number, Buffer>()
    let offset = log.logStartOffset
    let expectedNext = offset
    while (offset < log.logEndOffset) {
      const { records } = await log.read(offset, 1024 * 1024)
      assert.ok(records.length > 0, `read at ${offset} returned nothing`)
      for (const { position, size } of splitBatches(records)) {
        const base = readInt64(records, position)
        assert.equal(base, expectedNext, 'offsets are contiguous and in order')
        byOffset.set(base, records.subarray(position, position + size))
        offset = base + records.readInt32BE(position + 23) + 1
        expectedNext = offset
      }
    }
    for (const [id, baseOffset] of acked) {
      const stored = byOffset.get(baseOffset)
      assert.ok(stored !== undefined, `acknowledged batch ${id} at ${baseOffset} is missing`)
      assert.ok(stored.equals(storedBatchForId(id, baseOffset)),
        `acknowledged batch ${id} at ${baseOffset} differs`)
    }
    return log.logEndOffset
  } finally {
    await manager.close()
  }
}

async function tempDir (): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'tributary-crash-'))
}

describe(`storage crash recovery (CRASH_SEED=${SEED})`, () => {
  it(`keeps every acknowledged batch across ${CYCLES} SIGKILLs`, async () => {
    const random = seededRandom(SEED)
    const dataDir = await tempDir()
    const acked = new Map<string, number>()
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const killAfterMs = Math.floor(random() * 150)
        for (const [id, offset] of await runAndKill(dataDir, cycle, killAfterMs)) {
          acked.set(id, offset)
        }
        await verify(dataDir, acked)
      }
      assert.ok(acked.size > CYCLES, `only ${acked.size} batches were acknowledged`)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('truncates garbage and a torn batch at the tail, and rebuilds missing or corrupt indexes',
    async () => {
      const dataDir = await tempDir()
      try {
        const acked = await runAndKill(dataDir, 0, 100)
        const directory = path.join(dataDir, 'crash-0')
        const segments = (await readdir(directory)).filter(name => name.endsWith('.log')).sort()
        const active = path.join(directory, segments[segments.length - 1] as string)
        // A torn write: cut the active segment in the middle of its last batch...
        const size = (await stat(active)).size
        if (size > 100) await truncate(active, size - 30)
        // ...then garbage after it, a deleted index and a corrupt one.
        await appendFile(active, Buffer.from('this is not a record batch at all'))
        await unlink(path.join(directory, (segments[0] as string).replace('.log', '.index')))
          .catch(() => undefined)
        if (segments.length > 1) {
          await writeFile(path.join(directory, (segments[1] as string).replace('.log', '.index')),
            Buffer.alloc(13, 0xff))
        }
        // The batch cut in half was the last one written; it may have been acknowledged, so
        // only the ones before it are owed.
        const lastOffset = Math.max(...acked.values())
        const owed = new Map([...acked].filter(([, offset]) => offset < lastOffset))
        await verify(dataDir, owed)
        // A clean restart after recovery trusts the rewritten indexes and needs no scan.
        await verify(dataDir, owed)
      } finally {
        await rm(dataDir, { recursive: true, force: true })
      }
    })
})
