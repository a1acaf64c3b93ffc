/**
 * The API tables of docs/protocol.md, rendered from the broker's handler table (what
 * ApiVersions advertises, src/broker/handlers/index.ts) and the codec registry (what can be
 * decoded and encoded, src/protocol/registry.ts). Pure.
 */
import { ALL_HANDLERS } from '../../../src/broker/handlers/index.js'
import { API_DEFINITIONS } from '../../../src/protocol/registry.js'
import { markdownTable } from './markdown-table.js'

function range (min: number, max: number): string {
  return min === max ? String(min) : `${min}–${max}`
}

function flexible (flexibleFrom: number, max: number): string {
  if (!Number.isFinite(flexibleFrom)) return 'never'
  return flexibleFrom > max ? `v${flexibleFrom}+ (not implemented)` : `v${flexibleFrom}+`
}

/** The names of every API the broker advertises, for the rationale check in the test. */
export function servedApiNames (): string[] {
  return ALL_HANDLERS.map(entry => entry.api.name)
}

export function renderServedApis (): string {
  const rows = [...ALL_HANDLERS].sort((a, b) => a.api.key - b.api.key).map(entry => {
    const api = entry.api
    const flexibleServed = entry.maxVersion >= api.flexibleFrom
      ? `yes, from v${api.flexibleFrom}` : 'no'
    return [String(api.key), api.name, range(entry.minVersion, entry.maxVersion),
      range(api.minVersion, api.maxVersion), flexible(api.flexibleFrom, api.maxVersion),
      flexibleServed]
  })
  return markdownTable(['Key', 'API', 'Advertised', 'Codec', 'Flexible (schema)',
    'Flexible versions advertised'], rows)
}

export function renderUnservedCodecs (): string {
  const served = new Set(ALL_HANDLERS.map(entry => entry.api.key))
  const rows = API_DEFINITIONS.filter(api => !served.has(api.key))
    .sort((a, b) => a.key - b.key)
    .map(api => [String(api.key), api.name, range(api.minVersion, api.maxVersion),
      flexible(api.flexibleFrom, api.maxVersion)])
  if (rows.length === 0) return 'Every codec in the registry is served.'
  return markdownTable(['Key', 'API', 'Codec', 'Flexible (schema)'], rows)
}
