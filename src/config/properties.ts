/**
 * Java `.properties` text (java.util.Properties#load), the format Kafka's `server.properties`
 * uses:
 * - natural lines end at `\n`, `\r\n` or `\r`; whitespace is only space, tab and form feed;
 * - a line whose first non-whitespace character is `#` or `!` is a comment;
 * - a line ending in an odd number of backslashes continues on the next line, whose leading
 *   whitespace is dropped (a continuation line is never a comment); at the end of the text
 *   the dangling backslash is dropped;
 * - the key ends at the first unescaped `=`, `:` or whitespace; whitespace, then at most one
 *   `=` or `:`, then whitespace separate it from the value, which keeps trailing whitespace;
 * - escapes `\t \n \r \f \uXXXX`, and `\x` is `x` for any other character;
 * - a key given twice keeps its last value.
 * Pure; a malformed `\u` escape (Java's IllegalArgumentException) is a one-line ConfigError.
 */
import { ConfigError } from './schema.js'

const WHITESPACE = new Set([' ', '\t', '\f'])
const SIMPLE_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' }

export function parseProperties (text: string): Map<string, string> {
  const result = new Map<string, string>()
  const lines = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1
    let line = skipWhitespace(lines[i] ?? '')
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    while (endsWithContinuation(line)) {
      line = line.slice(0, -1)
      if (i + 1 >= lines.length) break
      line += skipWhitespace(lines[++i] ?? '')
    }
    const { key, value } = splitKeyValue(line)
    result.set(unescape(key, first), unescape(value, first))
  }
  return result
}

function skipWhitespace (text: string): string {
  let start = 0
  while (start < text.length && WHITESPACE.has(text[start] ?? '')) start++
  return text.slice(start)
}

function endsWithContinuation (line: string): boolean {
  let backslashes = 0
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) backslashes++
  return backslashes % 2 === 1
}

/** Splits a logical line (no leading whitespace) at its first unescaped separator. */
function splitKeyValue (line: string): { key: string, value: string } {
  let end = 0
  while (end < line.length) {
    const char = line[end] ?? ''
    if (char === '\\') {
      end += 2
      continue
    }
    if (char === '=' || char === ':' || WHITESPACE.has(char)) break
    end++
  }
  const key = line.slice(0, Math.min(end, line.length))
  let rest = skipWhitespace(line.slice(end))
  if (rest.startsWith('=') || rest.startsWith(':')) rest = skipWhitespace(rest.slice(1))
  return { key, value: rest }
}

function unescape (text: string, lineNumber: number): string {
  if (!text.includes('\\')) return text
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? ''
    if (char !== '\\') {
      out += char
      continue
    }
    const next = text[++i]
    if (next === undefined) break
    if (next === 'u') {
      const hex = text.slice(i + 1, i + 5)
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new ConfigError(`malformed \\uxxxx escape on line ${lineNumber} of the properties`)
      }
      out += String.fromCharCode(parseInt(hex, 16))
      i += 4
      continue
    }
    out += SIMPLE_ESCAPES[next] ?? next
  }
  return out
}
