/**
 * Generated sections of a Markdown file: the text between
 *
 *   <!-- BEGIN GENERATED: name -->
 *   ...
 *   <!-- END GENERATED: name -->
 *
 * belongs to the docs generator (gen-docs.ts, `npm run docs`); everything outside the markers
 * is written by hand and kept as it is. Pure string functions, no I/O.
 *
 * Failure: a missing, repeated or out-of-order marker pair throws a one-line error naming the
 * section, so a damaged file is reported instead of silently rewritten.
 */

export function beginMarker (name: string): string {
  return `<!-- BEGIN GENERATED: ${name} -->`
}

export function endMarker (name: string): string {
  return `<!-- END GENERATED: ${name} -->`
}

/** Where a section's body lies in `text`: [start, end) between the two marker lines. */
function bodyRange (text: string, name: string, file: string): { start: number, end: number } {
  const begin = beginMarker(name)
  const end = endMarker(name)
  const beginAt = text.indexOf(begin)
  const endAt = text.indexOf(end)
  if (beginAt < 0 || endAt < 0) {
    throw new Error(`${file}: the markers of generated section "${name}" are missing ` +
      `(${begin} ... ${end})`)
  }
  if (text.indexOf(begin, beginAt + 1) >= 0 || text.indexOf(end, endAt + 1) >= 0) {
    throw new Error(`${file}: generated section "${name}" is marked more than once`)
  }
  if (endAt < beginAt) throw new Error(`${file}: generated section "${name}" ends before it begins`)
  return { start: beginAt + begin.length, end: endAt }
}

/** The body of a generated section, without the surrounding newlines. */
export function readSection (text: string, name: string, file: string): string {
  const { start, end } = bodyRange(text, name, file)
  return text.slice(start, end).replace(/^\n/, '').replace(/\n$/, '')
}

/** `text` with the body of section `name` replaced by `body` (one line break on each side). */
export function replaceSection (text: string, name: string, body: string, file: string): string {
  const { start, end } = bodyRange(text, name, file)
  return text.slice(0, start) + '\n' + body.replace(/\n+$/, '') + '\n' + text.slice(end)
}
