/**
 * The client compatibility matrix of docs/protocol.md is rendered from result files
 * (test/docs/generator/client-matrix.ts): here on a temporary tree with one made-up result,
 * and `npm run docs -- --from-results` publishes a run's results over the published copies.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  publishClientResults, renderClientApis, renderClientMatrix,
} from './generator/client-matrix.js'

const RESULT = {
  client: 'Example client', language: 'Rust', version: '1.2.3',
  generatedAt: '2026-01-02T03:04:05.000Z',
  recording: {
    advertised: [{ apiKey: 0, name: 'Produce', minVersion: 3, maxVersion: 13 },
      { apiKey: 18, name: 'ApiVersions', minVersion: 0, maxVersion: 4 },
      { apiKey: 75, name: 'DescribeTopicPartitions', minVersion: 0, maxVersion: 0 }],
    used: [{ apiKey: 0, name: 'Produce', version: 11 }, { apiKey: 0, name: 'Produce', version: 13 },
      { apiKey: 18, name: 'ApiVersions', version: 5 }, { apiKey: 18, name: 'ApiVersions', version: 4 },
      { apiKey: 75, name: 'DescribeTopicPartitions', version: 0 }],
    clientSoftware: [{ name: 'example', version: '1.2.3' }],
  },
  outcomes: [{ test: 'produces', outcome: 'pass' },
    { test: 'uses | pipes', outcome: 'todo-fail', todo: 'needs KIP-848' }],
}

describe('client compatibility matrix', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'client-matrix-'))
    await mkdir(path.join(root, 'test/interop/results/published'), { recursive: true })
  })
  after(async () => { await rm(root, { recursive: true, force: true }) })

  it('says so when nothing is published', () => {
    assert.match(renderClientMatrix(root), /No published results/)
  })

  it('publishes a run\'s results and renders client, versions and outcome', async () => {
    await writeFile(path.join(root, 'test/interop/results/example.json'), JSON.stringify(RESULT))
    assert.deepEqual(publishClientResults(root), ['test/interop/results/published/example.json'])
    assert.equal(await readFile(path.join(root, 'test/interop/results/published/example.json'),
      'utf8'), JSON.stringify(RESULT))
    const matrix = renderClientMatrix(root)
    assert.match(matrix, /\| Example client \| Rust \| 1\.2\.3 \| example 1\.2\.3 \| 1 of 2 pass<br>known gap: uses \\\| pipes \(needs KIP-848\) \| 2026-01-02 \|/)
    const apis = renderClientApis(root)
    assert.match(apis, /\| 0 \| Produce \| 3–13 \| v11, v13 \|/)
    assert.match(apis, /\| 75 \| DescribeTopicPartitions \| 0 \| v0 \|/)
    assert.match(apis, /\| 18 \| ApiVersions \| 0–4 \| v4, v5 \(probe, refused\) \|/)
  })

  it('refuses a file that is not a client result', async () => {
    await writeFile(path.join(root, 'test/interop/results/published/bad.json'), '{"x":1}')
    assert.throws(() => renderClientMatrix(root), /bad\.json is not a client result file/)
  })
})
