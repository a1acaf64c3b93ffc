/**
 * Output and errors of the client commands: human-readable tables by default, `--format json`
 * for scripts; any failure is one readable line on stderr and a non-zero exit.
 */
import { KafkaClient } from '../client/client.js'

export type Format = 'text' | 'json'

export class CliError extends Error {
  override name = 'CliError'
  readonly exitCode: number

  constructor (message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

export function formatOf (value: unknown): Format {
  if (value === undefined || value === 'text') return 'text'
  if (value === 'json') return 'json'
  throw new CliError(`--format must be json or text, got "${String(value)}"`, 2)
}

export function table (rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return ''
  const names = columns ?? Object.keys(rows[0] as object)
  const cells = rows.map(row => names.map(name => String(row[name] ?? '')))
  const widths = names.map((name, i) =>
    Math.max(name.length, ...cells.map(cell => (cell[i] as string).length)))
  const line = (values: string[]): string =>
    values.map((value, i) => value.padEnd(widths[i] as number)).join('  ').trimEnd()
  return [line(names.map(name => name.toUpperCase())), ...cells.map(line)].join('\n')
}

export function print (format: Format, value: unknown, text: () => string): void {
  if (format === 'json') console.log(JSON.stringify(value))
  else {
    const rendered = text()
    if (rendered !== '') console.log(rendered)
  }
}

/** Runs a client command with a connected client, closing it afterwards. */
export async function withClient<T> (bootstrap: string,
  action: (client: KafkaClient) => Promise<T>): Promise<T> {
  const client = new KafkaClient({ bootstrap, requestTimeoutMs: 15_000 })
  try {
    return await action(client)
  } finally {
    await client.close()
  }
}

export function integerOption (name: string, value: string | undefined,
  minimum = 0): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < minimum) {
    throw new CliError(`${name} must be an integer ≥ ${minimum}, got "${value}"`, 2)
  }
  return number
}
