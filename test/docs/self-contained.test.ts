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
import { repoRoot } from './generator/generated-docs.js'

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

/** Markdown paths a file names, relative to it or to the root, in links or in code spans. */
const MARKDOWN_PATH = /(?:\.{1,2}\/)*[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_.-]+)*\.md\b/g

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function headingSlug (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

function anchorsOf (markdown: string): Set<string> {
  const anchors = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    const heading = /^#{1,6}\s+(.*)$/.exec(line)
    if (!fenced && heading !== null) anchors.add(headingSlug(heading[1] as string))
  }
  return anchors
}

/** Markdown links `[text](target)` whose target is a local file, with or without `#anchor`. */
const LOCAL_LINK = /\]\((?!https?:|mailto:)([^)\s]*)\)/g

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
    assert.deepEqual(hits, [], 'point these at docs/architecture.md, docs/protocol.md or ' +
      'docs/operations.md, or say it in place')
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

  it('has Markdown links whose files and anchors exist', () => {
    const broken: string[] = []
    for (const { file, text } of files.filter(({ file }) => file.endsWith('.md'))) {
      for (const match of text.matchAll(LOCAL_LINK)) {
        const [target = '', anchor] = (match[1] as string).split('#')
        const targetFile = target === '' ? file : path.join(path.dirname(file), target)
        const full = path.join(root, targetFile)
        if (targetFile.startsWith('..') || !existsSync(full)) {
          broken.push(`${file}: ${match[1] as string} (no such file)`)
        } else if (anchor !== undefined &&
          !anchorsOf(readFileSync(full, 'utf8')).has(anchor)) {
          broken.push(`${file}: ${match[1] as string} (no such heading)`)
        }
      }
    }
    assert.deepEqual(broken, [])
  })
})
