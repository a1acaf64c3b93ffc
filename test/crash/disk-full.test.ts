/**
 * A full disk (issue #6): the data directory on a small tmpfs. Produce fails with a clear
 * KAFKA_STORAGE_ERROR once space runs out, nothing acknowledged is lost, and appends succeed
 * again once space returns, without a restart. Needs permission to mount a tmpfs (root in
 * CI); skipped with a message otherwise.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { startBroker } from '../support/broker-process.js'
import { CrashTally } from '../support/crash-tally.js'

async function mountTmpfs (): Promise<string | undefined> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'tributary-full-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', directory])
  if (mounted.status === 0) return directory
  await rmdir(directory)
  return undefined
}

const mountPoint = await mountTmpfs()
const tally = new CrashTally(mountPoint === undefined
  ? 'full disk case, skipped: cannot mount a tmpfs here'
  : 'full disk case')
after(() => tally.print())

it('refuses produce with KAFKA_STORAGE_ERROR on a full disk and recovers when space returns',
  { skip: mountPoint === undefined && 'cannot mount a tmpfs here' }, () => tally.run('full disk',
    async () => {
      const root = mountPoint as string
      const broker = await startBroker({ dataDir: path.join(root, 'data') })
      const client = new KafkaClient({ bootstrap: broker.bootstrap })
      try {
        await client.createTopic('full', { partitions: 1 })
        await writeFile(path.join(root, 'ballast'), Buffer.alloc(1024 * 1024))
        const value = Buffer.alloc(60 * 1024, 7)
        let acked = 0
        let refusal: Error | undefined
        for (let i = 0; i < 100 && refusal === undefined; i++) {
          try {
            await client.produce('full', 0, buildRecordBatchSync([{ value, key: String(i) }]))
            acked++
          } catch (error) {
            refusal = error as Error
          }
        }
        assert.ok(refusal !== undefined, 'the disk filled up')
        assert.equal((refusal as { errorName?: string }).errorName, 'KAFKA_STORAGE_ERROR')
        assert.ok(acked > 0)
        await rm(path.join(root, 'ballast'))
        await new Promise(resolve => setTimeout(resolve, 100))
        await client.produce('full', 0, buildRecordBatchSync([{ value: 'after', key: 'after' }]))
        const keys: string[] = []
        for await (const record of readPartition(client, 'full', 0, 0)) {
          keys.push(record.key?.toString() ?? '')
        }
        assert.deepEqual(keys, [...Array.from({ length: acked }, (_, i) => String(i)), 'after'])
      } finally {
        await client.close()
        await broker.stop()
        spawnSync('umount', [root])
        await rm(root, { recursive: true, force: true })
      }
    }))
