/**
 * The comparison behind the differential tests (differential.test.ts): what a scenario
 * observed on Apache Kafka and on Tributary, as plain JSON, reduced to the paths where the two
 * differ. Pure functions, no I/O.
 *
 * Scenarios normalise before they observe: they record what a client can rely on (error
 * names, field presence, counts, offsets, whether an id is zero, whether a node id is a listed
 * broker) and never what legitimately differs between two brokers (node and cluster ids,
 * ports, throttle times, error message text, topic ids themselves).
 */

export type Observation = null | boolean | number | string | Observation[] |
{ [field: string]: Observation }

/** One path where the two brokers answered differently. */
export interface Difference {
  /** `scenario:path`, e.g. `metadata:topic.partitions[0].leaderEpoch`. */
  key: string
  kafka: Observation | undefined
  tributary: Observation | undefined
}

function isRecord (value: Observation | undefined): value is { [field: string]: Observation } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function walk (prefix: string, kafka: Observation | undefined,
  tributary: Observation | undefined, out: Difference[]): void {
  if (isRecord(kafka) && isRecord(tributary)) {
    const fields = [...new Set([...Object.keys(kafka), ...Object.keys(tributary)])].sort()
    for (const field of fields) {
      walk(prefix === '' ? field : `${prefix}.${field}`, kafka[field], tributary[field], out)
    }
    return
  }
  if (Array.isArray(kafka) && Array.isArray(tributary) && kafka.length === tributary.length) {
    kafka.forEach((item, i) => walk(`${prefix}[${i}]`, item, tributary[i], out))
    return
  }
  if (JSON.stringify(kafka) !== JSON.stringify(tributary)) {
    out.push({ key: prefix, kafka, tributary })
  }
}

/** Every leaf (or whole array of a different length) where the observations differ. */
export function differences (scenario: string, kafka: Observation,
  tributary: Observation): Difference[] {
  const out: Difference[] = []
  walk('', kafka, tributary, out)
  return out.map(difference => ({ ...difference, key: `${scenario}:${difference.key}` }))
}

/** One line per difference, for an assertion message. */
export function describeDifferences (list: readonly Difference[]): string {
  return list.map(difference => `${difference.key}: kafka=${JSON.stringify(difference.kafka)} ` +
    `tributary=${JSON.stringify(difference.tributary)}`).join('\n')
}
