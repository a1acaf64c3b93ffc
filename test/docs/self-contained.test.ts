/**
 * The repository stands on its own: no tracked file points at documents outside it (a sibling
 * `shared` folder, or design notes that only existed there), and every Markdown file a tracked
 * file names by path exists in the repository.
 *
 * The file list is `git ls-files`; outside a git checkout it falls back to walking the tree
 * (skipping node_modules, dist and broker data).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { repoRoot } from '../../scripts/docs/generated-docs.js'

const root = repoRoot()

// Spelled in pieces so that this file does not match itself.
const OUTSIDE_REFERENCES: readonly RegExp[] = [
  new RegExp(String.raw`\.\./` + 'shared'),
  new RegExp('/work/' + 'shared'),
  new RegExp(String.raw`\b` + 'KAFKA_PROTOCOL' + String.raw`\.md`),
  new RegExp(String.raw`\b` + 'DESIGN' + String.raw`\.md`),
  new RegExp(String.raw`\b` + 'STYLE' + String.raw`(\.md|'s| rule)`),
  new RegExp('steering ' + 'repository'),
]

const SKIPPED = new Set(['node_modules', 'dist', '.git', 'segments', 'results'])
const BINARY = /\.(png|svg|ico|gz|tgz|zip|jpg|jpeg|woff2?)$/

function trackedFiles (): string[] {
  try {
    const output = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    return output.split('\0').filter(file => file !== '')
  } catch {
    return walk('')
  }
}

function walk (directory: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(path.join(root, directory), { withFileTypes: true })) {
    const relative = path.join(directory, entry.name)
    if (entry.isDirectory()) {
      if (!SKIPPED.has(entry.name)) files.push(...walk(relative))
    } else {
      files.push(relative)
    }
  }
  return files
}

function textFiles (): { file: string, text: string }[] {
  return trackedFiles()
    .filter(file => !BINARY.test(file) && file !== 'package-lock.json')
    .filter(file => existsSync(path.join(root, file)))
    .map(file => ({ file, text: readFileSync(path.join(root, file), 'utf8') }))
}

/** Markdown paths a file names: `a/b.md`, `../x.md`, `docs/y.md#anchor`, in links or code. */
const MARKDOWN_PATH = /(?:\.{1,2}\/)*[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_.-]+)*\.md\b/g

function resolves (file: string, reference: string): boolean {
  const candidates = [path.join(path.dirname(file), reference), reference]
  return candidates.some(candidate => !candidate.startsWith('..') &&
    existsSync(path.join(root, candidate)))
}

describe('the repository stands on its own', () => {
  const files = textFiles()

  it('reads the tracked files', () => {
    assert.ok(files.some(({ file }) => file === 'README.md'))
    assert.ok(files.some(({ file }) => file === 'docs/architecture.md'))
  })

  it('names no document outside the repository', () => {
    const hits: string[] = []
    for (const { file, text } of files) {
      text.split('\n').forEach((line, index) => {
        if (OUTSIDE_REFERENCES.some(pattern => pattern.test(line))) {
          hits.push(`${file}:${index + 1}: ${line.trim()}`)
        }
      })
    }
    assert.deepEqual(hits, [], 'point these at docs/ (architecture.md, protocol.md, ' +
      'operations.md) or say it in place')
  })

  it('names only Markdown files that exist in the repository', () => {
    const missing: string[] = []
    for (const { file, text } of files) {
      for (const match of text.matchAll(MARKDOWN_PATH)) {
        if (!resolves(file, match[0])) missing.push(`${file}: ${match[0]}`)
      }
    }
    assert.deepEqual(missing, [])
  })
})
