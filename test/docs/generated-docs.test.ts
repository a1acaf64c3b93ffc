/**
 * The generated references in docs/ are current: each section between its markers equals what
 * the code renders now (config schema, metric registry, handler table, module imports). When
 * this fails, run `npm run docs` and commit the result.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { servedApiNames } from './generator/api-reference.js'
import {
  compareSections, GENERATED_SECTIONS, repoRoot,
} from './generator/generated-docs.js'
import { readSection, replaceSection } from './generator/markers.js'

const root = repoRoot()

describe('generated docs', () => {
  for (const section of GENERATED_SECTIONS) {
    const skip = section.platform !== undefined && section.platform !== process.platform &&
      `rendered on ${section.platform} only`
    it(`${section.file} section "${section.name}" is current`, { skip }, async () => {
      const state = (await compareSections(root)).find(candidate =>
        candidate.section === section)
      assert.ok(state !== undefined)
      assert.equal(state.current, state.expected,
        `${section.file} section "${section.name}" is out of date: run npm run docs`)
    })
  }

  it('explains why every served API has its versions', async () => {
    const text = await readFile(path.join(root, 'docs/protocol.md'), 'utf8')
    const start = text.indexOf('### Why these versions')
    const end = text.indexOf('\n## ', start)
    assert.ok(start >= 0 && end > start, 'docs/protocol.md has a "Why these versions" section')
    const rationale = text.slice(start, end)
    const missing = servedApiNames().filter(name => !rationale.includes(`**${name}**`))
    assert.deepEqual(missing, [], 'served APIs without a reason in docs/protocol.md')
  })

  it('rewrites only between the markers and reports a damaged section', () => {
    const text = 'hand\n<!-- BEGIN GENERATED: x -->\nold\n<!-- END GENERATED: x -->\ntail\n'
    const rewritten = replaceSection(text, 'x', 'new\n', 'page.txt')
    assert.equal(rewritten,
      'hand\n<!-- BEGIN GENERATED: x -->\nnew\n<!-- END GENERATED: x -->\ntail\n')
    assert.equal(readSection(rewritten, 'x', 'page.txt'), 'new')
    assert.throws(() => readSection('no markers', 'x', 'page.txt'), /page\.txt: .*"x" are missing/)
    assert.throws(() => replaceSection(text + text, 'x', '', 'page.txt'), /more than once/)
  })
})
