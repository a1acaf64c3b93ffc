/**
 * A GitHub-flavoured Markdown table from plain strings. Cells are escaped (`|` and line breaks)
 * so that any doc string, default value or help text from the code renders in its own cell.
 */

/** A cell's text made safe for one table cell; `<br>` is kept as the one allowed line break. */
export function cell (text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

/** Inline code, escaped for a table cell (a backtick inside is rare: fall back to plain). */
export function code (text: string): string {
  return text.includes('`') ? cell(text) : '`' + cell(text) + '`'
}

export function markdownTable (headers: readonly string[], rows: readonly string[][]): string {
  const lines = [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map(row => `| ${row.join(' | ')} |`),
  ]
  return lines.join('\n')
}
