/**
 * Summarises a V8 .cpuprofile (written by `node --cpu-prof`) as self time per function, the view
 * that names hot spots: "(garbage collector)" and "(program)" are V8's own buckets. Shares are
 * of busy time: the profile spans the broker's whole life, including start-up and the idle
 * seconds around the measured phases, so "(idle)" is left out of the ranking.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'

interface ProfileNode {
  id: number
  hitCount?: number
  callFrame: { functionName: string, url: string, lineNumber: number }
}

export interface HotSpot {
  function: string
  location: string
  selfPercent: number
}

export async function summariseProfile (file: string, top = 20): Promise<HotSpot[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[] }
  const totals = new Map<string, HotSpot & { hits: number }>()
  let all = 0
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0
    if (node.callFrame.functionName === '(idle)') continue
    all += hits
    const frame = node.callFrame
    const location = frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`
    const key = `${frame.functionName}@${location}`
    const entry = totals.get(key) ??
      { function: frame.functionName || '(anonymous)', location, selfPercent: 0, hits: 0 }
    entry.hits += hits
    totals.set(key, entry)
  }
  return [...totals.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map(({ hits, ...spot }) => ({ ...spot, selfPercent: Math.round(hits / all * 1000) / 10 }))
}

function shortUrl (url: string): string {
  const marker = url.indexOf('/dist/')
  if (marker >= 0) return url.slice(marker + 6)
  if (url.startsWith('node:')) return url
  return path.basename(url)
}
