/**
 * The README promises Node.js 20: every package in package-lock.json that declares
 * `engines.node` must accept every Node 20 release, or `npm install` on Node 20 warns
 * EBADENGINE (as content-disposition@3 and cookie@2, both `>=22`, once did; package.json pins
 * their parents with `overrides`).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { it } from 'node:test'
import { REPO_ROOT } from '../support/broker-process.js'

interface Semver { subset: (sub: string, range: string) => boolean }
const semver = createRequire(import.meta.url)('semver') as Semver
const NODE_20 = '^20.0.0'

interface LockEntry { version?: string, engines?: { node?: string } | string[] }

it('every locked package with engines.node accepts Node 20', async () => {
  const lock = JSON.parse(await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as
    { packages: Record<string, LockEntry> }
  const refused: string[] = []
  let checked = 0
  for (const [location, entry] of Object.entries(lock.packages)) {
    const engines = entry.engines
    // Old packages give engines as an array of strings; npm ignores that form.
    if (engines === undefined || Array.isArray(engines) || engines.node === undefined) continue
    checked++
    if (!semver.subset(NODE_20, engines.node)) {
      refused.push(`${location || 'tributary'}@${entry.version ?? '?'} wants node ${engines.node}`)
    }
  }
  assert.ok(checked > 10, `only ${checked} packages declare engines: is this the lockfile?`)
  assert.deepEqual(refused, [])
})

it('package.json itself accepts Node 20', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as
    { engines: { node: string } }
  assert.ok(semver.subset(NODE_20, pkg.engines.node), pkg.engines.node)
})
