/**
 * The client compatibility matrix of docs/protocol.md, from the result files the client
 * interop tests write (test/interop/client-harness.ts, `writeClientResult`): the published
 * copies in test/interop/results/published/*.json, one per client, are what the page shows.
 *
 *   renderClientMatrix     client, language, version, the result of its subtests, date of the run
 *   renderClientApis       per API, the versions each client sent, next to what Tributary served
 *   publishClientResults   copies a run's test/interop/results/*.json over the published ones
 *                          (`npm run docs -- --from-results`)
 *
 * Rendering reads files only (synchronously: a docs tool, never on a request path).
 */
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { cell, code, markdownTable } from './markdown-table.js'

const RESULTS = 'test/interop/results'
const PUBLISHED = `${RESULTS}/published`

/** The fields of a result file this page reads (ClientResult in client-harness.ts). */
interface PublishedResult {
  file: string
  client: string
  language: string
  version: string
  library?: string
  generatedAt?: string
  recording: {
    advertised: { apiKey: number, name: string, minVersion: number, maxVersion: number }[]
    used: { apiKey: number, name: string, version: number }[]
    clientSoftware?: { name: string, version: string }[]
  }
  outcomes: { test: string, outcome: string, todo?: string }[]
}

function readResults (root: string): PublishedResult[] {
  const folder = path.join(root, PUBLISHED)
  if (!existsSync(folder)) return []
  return readdirSync(folder).filter(name => name.endsWith('.json')).sort().map(name => {
    const parsed = JSON.parse(readFileSync(path.join(folder, name), 'utf8')) as
      Omit<PublishedResult, 'file'>
    if (typeof parsed.client !== 'string' || !Array.isArray(parsed.outcomes) ||
      !Array.isArray(parsed.recording?.used)) {
      throw new Error(`${PUBLISHED}/${name} is not a client result file`)
    }
    return { ...parsed, file: name }
  })
}

/** "30 of 30 pass", and each subtest that did not, with its todo reason. */
function resultText (result: PublishedResult): string {
  const passed = result.outcomes.filter(outcome => outcome.outcome === 'pass').length
  const parts = [`${passed} of ${result.outcomes.length} pass`]
  for (const outcome of result.outcomes) {
    if (outcome.outcome === 'pass') continue
    const todo = outcome.outcome.startsWith('todo')
    parts.push(`${todo ? 'known gap' : 'FAILED'}: ${outcome.test}` +
      (outcome.todo !== undefined ? ` (${outcome.todo})` : ''))
  }
  return cell(parts.join('<br>'))
}

export function renderClientMatrix (root: string): string {
  const results = readResults(root)
  if (results.length === 0) return `No published results in ${code(PUBLISHED)}.`
  return markdownTable(['Client', 'Language', 'Version', 'Sent as (client software)',
    'Result', 'Run'], results.map(result => [
    cell(result.client),
    cell(result.language),
    cell(result.version + (result.library !== undefined ? ` (${result.library})` : '')),
    cell((result.recording.clientSoftware ?? [])
      .map(software => `${software.name} ${software.version}`).join(', ')),
    resultText(result),
    cell((result.generatedAt ?? '').slice(0, 10)),
  ]))
}

const API_VERSIONS_KEY = 18

/**
 * "v13", or "v4, v5" when the client sent several versions of one API. An ApiVersions version
 * above the served maximum is the client's first probe, answered UNSUPPORTED_VERSION in the
 * v0 layout before the client retries lower; any other version above it would be a failed
 * check of the interop tests ("sends only API versions the broker advertised").
 */
function versionsText (result: PublishedResult, apiKey: number, servedMax: number): string {
  const versions = [...new Set(result.recording.used
    .filter(use => use.apiKey === apiKey).map(use => use.version))].sort((a, b) => a - b)
  if (versions.length === 0) return '–'
  return versions.map(version => version <= servedMax ? `v${version}`
    : `v${version} (${apiKey === API_VERSIONS_KEY ? 'probe, refused' : 'not served'})`)
    .join(', ')
}

export function renderClientApis (root: string): string {
  const results = readResults(root)
  if (results.length === 0) return `No published results in ${code(PUBLISHED)}.`
  const names = new Map<number, string>()
  for (const result of results) {
    for (const use of result.recording.used) names.set(use.apiKey, use.name)
  }
  // What the broker advertised during the newest of the runs.
  const newest = [...results].sort((a, b) =>
    (b.generatedAt ?? '').localeCompare(a.generatedAt ?? ''))[0]
  const served = new Map((newest?.recording.advertised ?? []).map(api => [api.apiKey, api]))
  const rows = [...names].sort(([a], [b]) => a - b).map(([apiKey, name]) => {
    const range = served.get(apiKey)
    return [String(apiKey), cell(name),
      range === undefined ? 'not served' : range.minVersion === range.maxVersion
        ? String(range.minVersion) : `${range.minVersion}–${range.maxVersion}`,
      ...results.map(result => versionsText(result, apiKey, range?.maxVersion ?? -1))]
  })
  return markdownTable(['Key', 'API', 'Tributary served',
    ...results.map(result => cell(`${result.client.split(' (')[0] ?? result.client} ` +
      result.version))], rows)
}

/**
 * Copies each test/interop/results/<client>.json of a run over its published copy; returns
 * the files copied. A run's files are git-ignored; the published ones are committed.
 */
export function publishClientResults (root: string): string[] {
  const folder = path.join(root, RESULTS)
  if (!existsSync(folder)) return []
  const copied: string[] = []
  for (const name of readdirSync(folder).filter(entry => entry.endsWith('.json')).sort()) {
    copyFileSync(path.join(folder, name), path.join(root, PUBLISHED, name))
    copied.push(`${PUBLISHED}/${name}`)
  }
  return copied
}
