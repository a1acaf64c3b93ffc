/**
 * A first start and a clean restart are quiet: an empty data directory is a new directory (not
 * an unclean shutdown), an empty partition's empty index is valid, and a new log is not a
 * recovery, so neither start prints a WARN line. Data written in between (a topic with records)
 * loads from its indexes after the clean restart, again without a WARN.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { it } from 'node:test'
import {
  BIN, REPO_ROOT, makeDataDir, removeDataDir, startBroker,
} from '../support/broker-process.js'

function warnings (output: string): string[] {
  return output.split('\n').filter(line => / WARN /.test(line))
}

it('prints no WARN on a first start, nor on a clean restart', async () => {
  const dataDir = await makeDataDir()
  try {
    const first = await startBroker({ dataDir })
    try {
      assert.match(first.output(), /loaded 0 partition logs .* in a new data directory/)
      const cli = (args: string[], input = ''): void => {
        const result = spawnSync(process.execPath, [BIN, '--bootstrap', first.bootstrap,
          ...args], { cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 30_000 })
        assert.equal(result.status, 0, result.stderr)
      }
      cli(['topic', 'create', 'quiet', '--partitions', '3'])
      cli(['produce', 'quiet', '-p', '1'], 'one\ntwo\nthree\n')
    } finally {
      assert.equal(await first.stop(), 0)
    }
    assert.deepEqual(warnings(first.output()), [])

    const second = await startBroker({ dataDir })
    assert.equal(await second.stop(), 0)
    assert.match(second.output(), /partition logs .* after a clean shutdown/)
    assert.deepEqual(warnings(second.output()), [])
  } finally {
    await removeDataDir(dataDir)
  }
})

it('recovers after a kill without a WARN when nothing was cut', async () => {
  const dataDir = await makeDataDir()
  try {
    const first = await startBroker({ dataDir })
    await first.kill()
    const second = await startBroker({ dataDir })
    assert.equal(await second.stop(), 0)
    assert.match(second.output(), /after an unclean shutdown/)
    assert.deepEqual(warnings(second.output()), [])
  } finally {
    await removeDataDir(dataDir)
  }
})
