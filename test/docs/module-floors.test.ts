/**
 * The module floors of docs/architecture.md hold in the code: no module of src/ imports one on
 * a higher floor, no two modules import each other (directly or through others), and every
 * module has a floor.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { repoRoot } from './generator/generated-docs.js'
import {
  floorViolations, moduleCycles, scanModuleImports, type ModuleImports,
} from './generator/module-floors.js'

describe('module floors', () => {
  const imports = scanModuleImports(repoRoot())

  it('finds the modules of src/ and their imports', () => {
    assert.ok(imports.modules.get('broker')?.has('storage'), 'broker imports storage')
    assert.ok(imports.external.get('metrics')?.has('prom-client'), 'metrics imports prom-client')
  })

  it('has no import up a floor and no module without a floor', () => {
    assert.deepEqual(floorViolations(imports), [])
  })

  it('has no cycle between modules', () => {
    assert.deepEqual(moduleCycles(imports), [])
  })

  it('reports an upward import and a cycle when there is one', () => {
    const broken: ModuleImports = {
      modules: new Map([['storage', new Set(['broker'])], ['broker', new Set(['storage'])],
        ['nowhere', new Set()]]),
      external: new Map(),
    }
    const problems = floorViolations(broken)
    assert.ok(problems.some(p => p.startsWith('storage (floor 2) imports broker (floor 5)')))
    assert.ok(problems.some(p => p.includes('"nowhere" has no floor')))
    assert.deepEqual(moduleCycles(broken), ['broker → storage → broker'])
  })
})
