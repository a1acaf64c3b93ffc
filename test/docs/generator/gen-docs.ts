/**
 * `npm run docs`: rewrites the generated sections of docs/ (configuration, metrics, APIs,
 * module floors and imports, the client compatibility matrix) from the code and the published
 * client results. `npm run docs -- --check` only compares, and exits 1 naming each stale
 * section, as test/docs/generated-docs.test.ts does. `npm run docs -- --from-results` first
 * publishes the client interop tests' latest results (test/interop/results/*.json, written by
 * `node --test dist/test/interop/java-client.test.js dist/test/interop/franz-go.test.js
 * dist/test/interop/confluent-kafka.test.js`) over test/interop/results/published/.
 */
import { publishClientResults } from './client-matrix.js'
import { compareSections, repoRoot, writeSections } from './generated-docs.js'

async function main (argv: readonly string[]): Promise<number> {
  const root = repoRoot()
  if (argv.includes('--check')) {
    const stale = (await compareSections(root))
      .filter(state => state.section.platform === undefined ||
        state.section.platform === process.platform)
      .filter(state => state.current !== state.expected)
    for (const state of stale) {
      console.error(`${state.section.file}: section "${state.section.name}" is out of date`)
    }
    if (stale.length > 0) console.error('run npm run docs')
    return stale.length === 0 ? 0 : 1
  }
  if (argv.includes('--from-results')) {
    const published = publishClientResults(root)
    console.log(published.length === 0 ? 'no client results to publish in test/interop/results'
      : `published ${published.join(', ')}`)
  }
  const changed = await writeSections(root)
  console.log(changed.length === 0 ? 'docs/ is up to date'
    : `rewrote the generated sections of ${changed.join(', ')}`)
  return 0
}

// Exits explicitly: building a metrics registry may leave collectors that keep Node running.
main(process.argv.slice(2)).then(code => process.exit(code), (error: unknown) => {
  console.error(`gen-docs: ${(error as Error).message ?? String(error)}`)
  process.exit(1)
})
