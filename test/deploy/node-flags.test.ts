/**
 * The node flags a broker needs from its start (STEADY_LOAD_NODE_FLAGS, read by V8 only when it
 * sets up the heap) are on every command line that starts one, and a broker started without
 * them says so.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { missingSteadyLoadFlags, STEADY_LOAD_NODE_FLAGS } from '../../src/io/v8-tuning.js'
import { parseDockerfile, words } from '../support/dockerfile-replay.js'
import {
  BIN, REPO_ROOT, removeDataDir, startBroker,
} from '../support/broker-process.js'

const WARNING = /WARN node was started without --max-semi-space-size/

describe('steady-load node flags', () => {
  it('are on the first line of bin/tributary.js, in npm start and npm run bench', async () => {
    const shebang = (await readFile(BIN, 'utf8')).split('\n')[0] ?? ''
    assert.match(shebang, /^#!\/usr\/bin\/env -S node /)
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as
      { scripts: Record<string, string> }
    for (const [where, line] of [['shebang', shebang], ['npm start', pkg.scripts.start],
      ['npm run bench', pkg.scripts.bench]]) {
      assert.deepEqual(missingSteadyLoadFlags(words(line ?? '')), [], where)
    }
  })

  it('are in the Dockerfile\'s entry point, before the script', async () => {
    const instructions = parseDockerfile(await readFile(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'))
    const entrypoint = words(instructions.filter(i => i.keyword === 'ENTRYPOINT').pop()
      ?.argument ?? '[]')
    const script = entrypoint.indexOf('bin/tributary.js')
    assert.ok(script > 0, entrypoint.join(' '))
    assert.deepEqual(missingSteadyLoadFlags(entrypoint.slice(0, script)), [])
  })

  it('count from the command line or NODE_OPTIONS, by name whatever the value', () => {
    assert.deepEqual(missingSteadyLoadFlags([], ''), [...STEADY_LOAD_NODE_FLAGS])
    assert.deepEqual(missingSteadyLoadFlags(['--max-semi-space-size=8'], ''), [])
    assert.deepEqual(missingSteadyLoadFlags(['--max_semi_space_size=2'], ''), [])
    assert.deepEqual(missingSteadyLoadFlags([], '--inspect  --max-semi-space-size=4'), [])
    assert.deepEqual(missingSteadyLoadFlags(['--max-semi-space-size-x=4'], '--max-old'),
      [...STEADY_LOAD_NODE_FLAGS])
  })

  it('a broker started without them warns once; with them it does not', async () => {
    const bare = await startBroker({ nodeArgs: [], env: { NODE_OPTIONS: '' } })
    const tuned = await startBroker({ env: { NODE_OPTIONS: '' } })
    // The warning follows the ready line; stopped, a broker has printed all it would.
    for (const broker of [bare, tuned]) {
      await broker.stop()
      await removeDataDir(broker.dataDir)
    }
    assert.equal(bare.output().match(new RegExp(WARNING, 'g'))?.length, 1, bare.output())
    assert.doesNotMatch(tuned.output(), WARNING)
  })
})
