/**
 * The module floors: which `src/` module may import which. A module imports only modules on
 * its own floor or below, and modules never import each other in a cycle. docs/architecture.md
 * renders this table and the imports the code actually has (`scanModuleImports`);
 * test/docs/module-floors.test.ts checks the second against the first.
 *
 * The scan reads every `.ts` file under src/ once (synchronous fs: a build-time tool, never on
 * a request path) and resolves relative import specifiers to the module they land in.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { code, markdownTable } from './markdown-table.js'

export interface Floor {
  floor: number
  modules: readonly string[]
  /** Why these modules sit here, in one line. */
  role: string
}

/**
 * `main` is src/main.ts, the composition root, with any other file directly in src/; every
 * other name is a folder of src/.
 */
export const FLOORS: readonly Floor[] = [
  { floor: 0, modules: ['util', 'io'],
    role: 'assertions; the ports to the machine (clock, disk, TCP) and their Node ' +
      'implementations' },
  { floor: 1, modules: ['records', 'protocol', 'config', 'metrics'],
    role: 'record batches and codecs; the Kafka wire format; the config schema; the metric ' +
      'registry' },
  { floor: 2, modules: ['storage', 'metadata', 'client'],
    role: 'partition logs on disk; the metadata image; the lean Kafka client' },
  { floor: 3, modules: ['controller', 'cluster', 'replication'],
    role: 'validates admin operations and writes them to the metadata log; a cluster on etcd ' +
      '(sessions, election, the etcd metadata log, forwarding); replication (ISR, high ' +
      'watermark, follower fetchers)' },
  { floor: 4, modules: ['group', 'txn'],
    role: 'the consumer-group coordinator and its offsets store; the transaction coordinator' },
  { floor: 5, modules: ['broker'],
    role: 'request handlers, replica manager, purgatory: one code path for both front ends' },
  { floor: 6, modules: ['network', 'http'],
    role: 'the two front ends: Kafka listener and connections; the HTTP API' },
  { floor: 7, modules: ['cli', 'main'],
    role: 'the `tributary` command; the composition root (src/main.ts and the other files ' +
      'directly in src/) that wires everything' },
]

export const FLOOR_OF: ReadonlyMap<string, number> = new Map(
  FLOORS.flatMap(entry => entry.modules.map(module => [module, entry.floor] as const)))

/** module → modules it imports, and its third-party and node: imports. */
export interface ModuleImports {
  modules: Map<string, Set<string>>
  external: Map<string, Set<string>>
}

const IMPORT_SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'([^']+)'/g

/** The folder of src/ a file is in; files directly in src/ (main.ts and its peers) are `main`. */
function moduleOf (srcRoot: string, file: string): string {
  const relative = path.relative(srcRoot, file).split(path.sep)
  return relative.length === 1 ? 'main' : relative[0] as string
}

function sourceFiles (directory: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name)
    if (entry.isDirectory()) files.push(...sourceFiles(full))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(full)
  }
  return files.sort()
}

export function scanModuleImports (repoRoot: string): ModuleImports {
  const srcRoot = path.join(repoRoot, 'src')
  const result: ModuleImports = { modules: new Map(), external: new Map() }
  for (const file of sourceFiles(srcRoot)) {
    const from = moduleOf(srcRoot, file)
    const modules = result.modules.get(from) ?? new Set<string>()
    const external = result.external.get(from) ?? new Set<string>()
    result.modules.set(from, modules)
    result.external.set(from, external)
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT_SPECIFIER)) {
      const specifier = match[1] as string
      if (!specifier.startsWith('.')) {
        // A package's name: `@scope/name` or `name`, without a subpath.
        const parts = specifier.split('/')
        external.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] as string)
        continue
      }
      const target = path.resolve(path.dirname(file), specifier)
      if (!target.startsWith(srcRoot + path.sep)) continue
      const to = moduleOf(srcRoot, target.replace(/\.js$/, '.ts'))
      if (to !== from) modules.add(to)
    }
  }
  return result
}

/** Imports that break the floors: upward ones, and modules with no floor. */
export function floorViolations (imports: ModuleImports): string[] {
  const problems: string[] = []
  for (const [from, targets] of imports.modules) {
    const fromFloor = FLOOR_OF.get(from)
    if (fromFloor === undefined) {
      problems.push(`src module "${from}" has no floor: add it to FLOORS in ` +
        'test/docs/generator/module-floors.ts and describe it in docs/architecture.md')
      continue
    }
    for (const to of targets) {
      const toFloor = FLOOR_OF.get(to)
      if (toFloor !== undefined && toFloor > fromFloor) {
        problems.push(`${from} (floor ${fromFloor}) imports ${to} (floor ${toFloor}), ` +
          'which is above it')
      }
    }
  }
  return problems
}

/** Cycles between modules (on one floor, since upward imports are reported apart). */
export function moduleCycles (imports: ModuleImports): string[] {
  const cycles: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const visit = (module: string, trail: string[]): void => {
    if (state.get(module) === 'done') return
    if (state.get(module) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(module)), module].join(' → '))
      return
    }
    state.set(module, 'open')
    for (const next of [...(imports.modules.get(module) ?? [])].sort()) {
      visit(next, [...trail, module])
    }
    state.set(module, 'done')
  }
  for (const module of [...imports.modules.keys()].sort()) visit(module, [])
  return cycles
}

function list (names: Iterable<string>): string {
  const sorted = [...names].sort()
  return sorted.length === 0 ? '—' : sorted.map(code).join(', ')
}

export function renderFloors (): string {
  return markdownTable(['Floor', 'Modules', 'What lives there'], FLOORS.map(entry => [
    String(entry.floor), entry.modules.map(code).join(', '), entry.role,
  ]))
}

export function renderModuleImports (repoRoot: string): string {
  const imports = scanModuleImports(repoRoot)
  const order = (module: string): number => FLOOR_OF.get(module) ?? Number.MAX_SAFE_INTEGER
  const modules = [...imports.modules.keys()]
    .sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0))
  return markdownTable(['Module', 'Floor', 'Imports from src/', 'Packages and node: modules'],
    modules.map(module => [code(module), String(FLOOR_OF.get(module) ?? '?'),
      list(imports.modules.get(module) ?? []), list(imports.external.get(module) ?? [])]))
}
