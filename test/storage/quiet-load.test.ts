/**
 * Loading logs reports a recovery only when there was something to recover: an empty
 * partition's segment (0-byte log, empty or missing index files) is valid after a clean
 * shutdown, a new log is not a recovery, and a scan after an unclean shutdown that cut nothing
 * is INFO, not WARN. Real bytes cut still WARN.
 */
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, rm, unlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, it } from 'node:test'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { LogManager } from '../../src/storage/log-manager.js'

let dataDir: string
let infos: string[]
let warnings: string[]
const logger = {
  info: (message: string) => { infos.push(message) },
  warn: (message: string) => { warnings.push(message) },
}

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-quiet-'))
  infos = []
  warnings = []
})
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

const open = (): Promise<LogManager> => LogManager.open({ dataDir, nodeId: 1, logger })

async function append (manager: LogManager, topic: string): Promise<void> {
  const log = await manager.getOrCreateLog(topic, 0)
  await log.append(buildRecordBatchSync([{ value: 'x' }], { timestampMs: 1000 }),
    { leaderEpoch: 0, recordsCount: 1, maxTimestamp: 1000 })
}

it('a new directory, new logs and a clean restart report no recovery', async () => {
  const first = await open()
  assert.match(infos.join('\n'), /loaded 0 partition logs .* in a new data directory/)
  await first.getOrCreateLog('empty', 0)
  await append(first, 'full')
  await first.close()
  // An empty segment whose index files are missing altogether is just as valid.
  await unlink(path.join(dataDir, 'empty-0', '00000000000000000000.index')).catch(() => undefined)
  const second = await open()
  assert.equal(second.getLog('full', 0)?.logEndOffset, 1)
  await second.close()
  assert.deepEqual(warnings, [])
  assert.doesNotMatch(infos.join('\n'), /recovered/)
  assert.match(infos.join('\n'), /loaded 2 partition logs .* after a clean shutdown/)
})

it('an unclean restart scans at INFO, and WARNs only for bytes it cut', async () => {
  const first = await open()
  await first.getOrCreateLog('empty', 0)
  await append(first, 'full')
  await first.close()
  await rm(path.join(dataDir, '.kafka_cleanshutdown'))
  const second = await open()
  await second.close()
  assert.deepEqual(warnings, [])
  assert.match(infos.join('\n'), /recovered full-0: 1 segment\(s\) scanned/)
  assert.doesNotMatch(infos.join('\n'), /recovered empty-0/)

  await rm(path.join(dataDir, '.kafka_cleanshutdown'))
  await appendFile(path.join(dataDir, 'full-0', '00000000000000000000.log'), 'garbage')
  const third = await open()
  await third.close()
  const lines: string[] = warnings
  assert.equal(lines.length, 1, lines.join('\n'))
  assert.match(lines.join('\n'), /recovered full-0: .* 7 bytes truncated/)
})
