/** Java .properties parsing (java.util.Properties#load rules). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, parseProperties } from '../../src/config/index.js'

const parse = (text: string): Record<string, string> => Object.fromEntries(parseProperties(text))

describe('parseProperties', () => {
  it('reads =, : and whitespace separators and skips # and ! comments', () => {
    assert.deepEqual(parse([
      '# a comment', '! another', '   # indented comment', 'a=1', 'b : 2', 'c 3', 'd\t=\t4',
      'e:=5', 'f', 'g=', '',
    ].join('\n')), { a: '1', b: '2', c: '3', d: '4', e: '=5', f: '', g: '' })
  })

  it('keeps trailing whitespace of a value and drops leading whitespace of a line', () => {
    assert.deepEqual(parse('  d=with spaces  \n\f\tx = y'), { d: 'with spaces  ', x: 'y' })
  })

  it('joins continuation lines, dropping their leading whitespace, even if they look like comments',
    () => {
      assert.deepEqual(parse('e=line\\\n    continued\nf=one\\\n#not a comment\n'),
        { e: 'linecontinued', f: 'one#not a comment' })
    })

  it('treats an even number of trailing backslashes as escaped backslashes, not a continuation',
    () => {
      assert.deepEqual(parse('path=C:\\\\\nnext=1'), { path: 'C:\\', next: '1' })
    })

  it('drops a dangling continuation backslash at the end of the text', () => {
    assert.deepEqual(parse('a=b\\'), { a: 'b' })
  })

  it('decodes escapes in keys and values, including escaped separators in a key', () => {
    assert.deepEqual(parse('key\\=with\\:seps\\ and\\ space=v\nt=tab\\there\\n\\u00e9\\q'),
      { 'key=with:seps and space': 'v', t: 'tab\there\n\u00e9q' })
  })

  it('accepts CRLF and lone CR line endings', () => {
    assert.deepEqual(parse('a=1\r\nb=2\rc=3'), { a: '1', b: '2', c: '3' })
  })

  it('keeps the last value of a repeated key', () => {
    assert.deepEqual(parse('a=1\na=2'), { a: '2' })
  })

  it('rejects a malformed \\u escape with a one-line ConfigError naming the line', () => {
    assert.throws(() => parseProperties('ok=1\nbad=\\u12x4'), (error: unknown) => {
      assert.ok(error instanceof ConfigError)
      assert.match(error.message, /line 2/)
      return true
    })
  })
})
