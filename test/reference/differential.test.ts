/**
 * Differential tests (issue #13): the same scenarios (differential-scenarios.ts), sent with the
 * lean client to one Tributary broker and to one real Apache Kafka 4.1 (test/reference/
 * kafka.ts), must be answered alike wherever a client can tell: error codes for bad requests,
 * metadata shapes, ListOffsets answers, group states and assignments, config descriptions and
 * the ApiVersions range of every API Tributary serves.
 *
 * A difference that is ours to keep is listed in differential-allowed.ts with its reason, and
 * in docs/protocol.md ("Differences from Apache Kafka"). The test fails on any difference not
 * listed, on a listed one that no longer occurs (so the list and the page stay true), and on a
 * listed one the page does not name.
 *
 * Skipped, with the reason, where Java or Maven is missing; in CI (CI=true) they are required.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import {
  REPO_ROOT, removeDataDir, startBroker, type BrokerProcess,
} from '../support/broker-process.js'
import { DOCUMENTED_DIFFERENCES } from './differential-allowed.js'
import { describeDifferences, differences, type Difference } from './differential-compare.js'
import { scenarios, type Target } from './differential-scenarios.js'
import { referenceMissing, startKafka, type ReferenceKafka } from './kafka.js'

const missing = await referenceMissing()
const required = process.env.CI === 'true'
const skip = missing !== undefined && !required
  ? `the reference Kafka cannot run here: ${missing}` : false

/** JSON with object keys sorted, so field order does not matter. */
function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item)
}

/** Tributary's API keys, read from its own ApiVersions answer. */
async function servedKeys (client: KafkaClient): Promise<number[]> {
  const connection = await client.any()
  const response = await connection.send(ApiVersions, {
    clientSoftwareName: 'differential', clientSoftwareVersion: '1.0',
  })
  const keys = response.apiKeys.map(api => api.apiKey).sort((a, b) => a - b)
  // The ApiVersions comparison is only a check if there is something to compare.
  assert.ok(response.errorCode === 0 && keys.length > 20,
    `Tributary's ApiVersions answered error ${response.errorCode} with ${keys.length} APIs`)
  return keys
}

describe('Tributary answers as Apache Kafka 4.1 does', { skip, timeout: 300_000 }, () => {
  let kafka: ReferenceKafka | undefined
  let broker: BrokerProcess | undefined
  let onKafka: Target
  let onTributary: Target
  let served: number[] = []
  const found: Difference[] = []

  before(async () => {
    if (missing !== undefined) throw new Error(`CI needs Java and Maven: ${missing}`)
    ;[kafka, broker] = await Promise.all([
      startKafka(),
      // As the reference's server.properties: the first group forms at once.
      startBroker({ env: { TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } }),
    ])
    onKafka = { kind: 'kafka', bootstrap: kafka.bootstrap,
      client: new KafkaClient({ bootstrap: kafka.bootstrap, clientId: 'differential' }) }
    onTributary = { kind: 'tributary', bootstrap: broker.bootstrap,
      client: new KafkaClient({ bootstrap: broker.bootstrap, clientId: 'differential' }) }
    served = await servedKeys(onTributary.client)
  })

  after(async () => {
    await onKafka?.client.close()
    await onTributary?.client.close()
    await kafka?.stop()
    if (broker !== undefined) {
      await broker.stop()
      await removeDataDir(broker.dataDir)
    }
  })

  for (const scenario of scenarios(() => served)) {
    it(`${scenario.name}: only the documented differences`, async t => {
      const [kafkaSaw, tributarySaw] = await Promise.all([
        scenario.observe(onKafka), scenario.observe(onTributary)])
      t.diagnostic(`kafka: ${JSON.stringify(kafkaSaw)}`)
      const seen = differences(scenario.name, kafkaSaw, tributarySaw)
      found.push(...seen)
      const undocumented = seen.filter(difference => {
        const documented = DOCUMENTED_DIFFERENCES.get(difference.key)
        return documented === undefined ||
          canonical(difference.tributary) !== canonical(JSON.parse(documented.tributary))
      })
      assert.equal(describeDifferences(undocumented), '',
        'differences from Apache Kafka that are neither fixed nor documented (or whose ' +
        'Tributary answer is not the documented one)')
      const gone = [...DOCUMENTED_DIFFERENCES.keys()]
        .filter(key => key.startsWith(`${scenario.name}:`))
        .filter(key => !seen.some(difference => difference.key === key))
      assert.deepEqual(gone, [], 'documented differences that no longer occur: remove them')
    })
  }

  it('docs/protocol.md names every documented difference', async () => {
    const text = await readFile(path.join(REPO_ROOT, 'docs/protocol.md'), 'utf8')
    const start = text.indexOf('## Differences from Apache Kafka')
    assert.ok(start >= 0, 'docs/protocol.md has a "Differences from Apache Kafka" section')
    const section = text.slice(start, text.indexOf('\n## ', start + 1) >>> 0)
    const unnamed = [...DOCUMENTED_DIFFERENCES.keys()].filter(key => !section.includes(`\`${key}\``))
    assert.deepEqual(unnamed, [], 'documented differences the page does not name')
  })
})
