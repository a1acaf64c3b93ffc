/**
 * The differences from Apache Kafka 4.1 that Tributary keeps on purpose, each with its reason:
 * `scenario:path` as differential-compare.ts names it. docs/protocol.md ("Differences from
 * Apache Kafka") names every key here; differential.test.ts fails on a difference not listed
 * and on a listed one that no longer occurs.
 */
export const DOCUMENTED_DIFFERENCES: ReadonlyMap<string, string> = new Map([
])
