/**
 * Every generated section of docs/, with the function that renders it from the code.
 * gen-docs.ts (`npm run docs`) rewrites them; test/docs/generated-docs.test.ts fails when the
 * files on disk differ from a fresh rendering.
 *
 * Rendering reads the code (tables, registries, src/ imports) and the published client test
 * results (test/interop/results/published/): no network, no broker, well under a second.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderServedApis, renderUnservedCodecs } from './api-reference.js'
import { renderClientApis, renderClientMatrix } from './client-matrix.js'
import { renderBrokerConfigs, renderTopicConfigs } from './config-reference.js'
import { readSection, replaceSection } from './markers.js'
import { renderBrokerMetrics, renderProcessMetrics } from './metrics-reference.js'
import { renderFloors, renderModuleImports } from './module-floors.js'

export interface GeneratedSection {
  /** Path from the repository root. */
  file: string
  name: string
  render: (repoRoot: string) => string
  /** Set when the rendering differs by platform: the check runs only there. */
  platform?: NodeJS.Platform
}

export const GENERATED_SECTIONS: readonly GeneratedSection[] = [
  { file: 'docs/architecture.md', name: 'floors', render: () => renderFloors() },
  { file: 'docs/architecture.md', name: 'imports', render: root => renderModuleImports(root) },
  { file: 'docs/protocol.md', name: 'apis', render: () => renderServedApis() },
  { file: 'docs/protocol.md', name: 'unserved-apis', render: () => renderUnservedCodecs() },
  { file: 'docs/protocol.md', name: 'client-matrix', render: root => renderClientMatrix(root) },
  { file: 'docs/protocol.md', name: 'client-apis', render: root => renderClientApis(root) },
  { file: 'docs/operations.md', name: 'broker-config', render: () => renderBrokerConfigs() },
  { file: 'docs/operations.md', name: 'topic-config', render: () => renderTopicConfigs() },
  { file: 'docs/operations.md', name: 'metrics', render: () => renderBrokerMetrics() },
  // prom-client registers some process metrics on Linux only; the reference is Linux's.
  { file: 'docs/operations.md', name: 'process-metrics', render: () => renderProcessMetrics(),
    platform: 'linux' },
]

/** The repository root: the nearest directory above this file with Tributary's package.json. */
export function repoRoot (): string {
  let directory = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(directory, 'package.json')) &&
      existsSync(path.join(directory, 'src', 'main.ts'))) return directory
    const parent = path.dirname(directory)
    if (parent === directory) throw new Error('cannot find the repository root above ' + directory)
    directory = parent
  }
}

export interface SectionState {
  section: GeneratedSection
  current: string
  expected: string
}

/** Each generated section as it is on disk and as the code renders it now. */
export async function compareSections (root: string): Promise<SectionState[]> {
  const texts = new Map<string, string>()
  const states: SectionState[] = []
  for (const section of GENERATED_SECTIONS) {
    const text = texts.get(section.file) ??
      await readFile(path.join(root, section.file), 'utf8')
    texts.set(section.file, text)
    states.push({
      section,
      current: readSection(text, section.name, section.file),
      expected: section.render(root).replace(/\n+$/, ''),
    })
  }
  return states
}

/**
 * Rewrites every generated section on disk; returns the files that changed. A section whose
 * rendering belongs to another platform is left as it is.
 */
export async function writeSections (root: string): Promise<string[]> {
  const changed: string[] = []
  const files = [...new Set(GENERATED_SECTIONS.map(section => section.file))]
  for (const file of files) {
    const full = path.join(root, file)
    const before = await readFile(full, 'utf8')
    let text = before
    for (const section of GENERATED_SECTIONS) {
      if (section.file !== file) continue
      if (section.platform !== undefined && section.platform !== process.platform) continue
      text = replaceSection(text, section.name, section.render(root), file)
    }
    if (text !== before) {
      await writeFile(full, text)
      changed.push(file)
    }
  }
  return changed
}
