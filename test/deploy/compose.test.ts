/**
 * docker-compose.yml is valid (`docker-compose config`; no container engine runs here) and
 * every TRIBUTARY_ variable in it is a property the broker accepts with that value.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { it } from 'node:test'
import { loadBrokerConfig } from '../../src/config/index.js'
import { REPO_ROOT } from '../support/broker-process.js'

const composeAvailable = spawnSync('docker-compose', ['version']).status === 0

it('docker-compose.yml validates with docker-compose config',
  { skip: !composeAvailable && 'docker-compose is not installed' }, () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'],
      { cwd: REPO_ROOT, encoding: 'utf8' })
    assert.equal(result.status, 0, result.stderr)
  })

it('every TRIBUTARY_ variable in docker-compose.yml is a valid broker property', async () => {
  const text = await readFile(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')
  // One environment per broker service (a service starts at a two-space `name:` line).
  const services = text.split(/^ {2}(?=[a-z0-9-]+:\s*$)/m)
    .filter(service => /^broker-\d+:/.test(service))
  assert.equal(services.length, 3, 'three brokers')
  for (const [index, service] of services.entries()) {
    const env: Record<string, string> = {}
    for (const match of service.matchAll(/^\s+(TRIBUTARY_[A-Z0-9_]+):\s*"?([^"\n]*)"?\s*$/gm)) {
      env[match[1] as string] = match[2] as string
    }
    assert.ok(Object.keys(env).length >= 4)
    const { config } = await loadBrokerConfig({ env, flags: {} })
    assert.equal(config.nodeId, index + 1)
    assert.equal(config.externalListenerPort, 19092 + index)
    assert.equal(config.externalAdvertisedHost, 'localhost')
    assert.equal(config.host, '0.0.0.0')
    assert.equal(config.properties.get('tributary.etcd.endpoints')?.value, 'etcd:2379')
  }
})
