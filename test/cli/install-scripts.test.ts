/**
 * `npm link` (and so `tributary` on the PATH) installs without npm's install-scripts warning:
 * the package has no install lifecycle script (npm 11 blocks those for a linked directory and
 * warns "install scripts not yet covered by allowScripts"); the compile is the `dependencies`
 * script, which npm runs only for the root project when an install changed node_modules.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { it } from 'node:test'
import { REPO_ROOT } from '../support/broker-process.js'

/** What npm treats as install scripts of a dependency (`prepare` for non-registry sources). */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare']

it('package.json has no install lifecycle scripts but still compiles on npm install', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as
    { scripts: Record<string, string> }
  assert.deepEqual(INSTALL_SCRIPTS.filter(name => name in pkg.scripts), [])
  assert.match(pkg.scripts.dependencies ?? '', /tsc -p \./)
  assert.match(pkg.scripts.prestart ?? '', /tsc -p \./)
})

it('npm link installs quietly and the linked tributary runs', async () => {
  const prefix = await mkdtemp(path.join(os.tmpdir(), 'tributary-link-'))
  try {
    const env = { ...process.env, npm_config_prefix: prefix, npm_config_audit: 'false',
      npm_config_fund: 'false', npm_config_update_notifier: 'false' }
    const linked = spawnSync('npm', ['link'], { cwd: REPO_ROOT, env, encoding: 'utf8',
      timeout: 120_000 })
    assert.equal(linked.status, 0, linked.stderr)
    assert.doesNotMatch(linked.stdout + linked.stderr, /install-scripts|allowScripts|warn/i)
    const version = spawnSync(path.join(prefix, 'bin', 'tributary'), ['--version'],
      { encoding: 'utf8', timeout: 30_000 })
    assert.equal(version.status, 0, version.stderr)
    assert.match(version.stdout, /^\d+\.\d+\.\d+/)
  } finally {
    await rm(prefix, { recursive: true, force: true })
  }
})
