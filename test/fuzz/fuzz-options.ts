/**
 * The fuzzer's command line: --seconds N (default 10), --seed S (default: random),
 * --batches N (stop after N batches), --exclude m1,m2 (leave mutations out, for triage),
 * --rss-limit-mib N (default 1024), --verbose. Bad arguments throw with a message naming
 * the flag.
 */
import { randomInt } from 'node:crypto'
import { parseArgs } from 'node:util'
import { MUTATIONS, type Mutation } from './request-generator.js'

export const MIB = 1024 * 1024
/** The broker's RSS bound: far above its ~100-350 MiB under fuzzing, far below the machine. */
const DEFAULT_RSS_LIMIT_MIB = 1024

export interface Options {
  seconds: number
  seed: number
  batches: number
  enabled: Set<Mutation>
  rssLimitBytes: number
  verbose: boolean
}

export function parseOptions (argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      seed: { type: 'string' },
      batches: { type: 'string' },
      exclude: { type: 'string', default: '' },
      'rss-limit-mib': { type: 'string', default: String(DEFAULT_RSS_LIMIT_MIB) },
      verbose: { type: 'boolean', default: false },
    },
  })
  const number = (name: string, raw: string, min: number): number => {
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`--${name} must be an integer of at least ${min}, got "${raw}"`)
    }
    return value
  }
  const excluded = values.exclude.split(',').map(name => name.trim()).filter(Boolean)
  for (const name of excluded) {
    if (!(MUTATIONS as readonly string[]).includes(name)) {
      throw new Error(`--exclude: unknown mutation "${name}" (known: ${MUTATIONS.join(', ')})`)
    }
  }
  return {
    seconds: number('seconds', values.seconds, 1),
    seed: values.seed === undefined ? randomInt(0, 2 ** 31) : number('seed', values.seed, 0),
    batches: values.batches === undefined ? Infinity : number('batches', values.batches, 1),
    enabled: new Set(MUTATIONS.filter(mutation => !excluded.includes(mutation))),
    rssLimitBytes: number('rss-limit-mib', values['rss-limit-mib'], 1) * MIB,
    verbose: values.verbose,
  }
}
