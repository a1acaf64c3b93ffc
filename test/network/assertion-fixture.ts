/**
 * A child process for process-guards.test.ts: a KafkaServer with the process guards installed
 * whose handler breaks an invariant (mode "assert") or throws from a timer and leaks a rejection
 * before answering (mode "survive"). Prints the port, then serves.
 */
import { installProcessGuards } from '../../src/process-guards.js'
import { ConnectionQuotas } from '../../src/network/connection-quotas.js'
import { RequestBudget } from '../../src/network/request-budget.js'
import { KafkaServer } from '../../src/network/server.js'
import type { ApiDefinition } from '../../src/protocol/api.js'
import { AssertionError } from '../../src/util/assert.js'

const mode = process.argv[2]
installProcessGuards({ error: message => console.error(`ERROR ${message}`) })

const api: ApiDefinition<unknown, string> = {
  key: 60,
  name: 'Test',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: Number.POSITIVE_INFINITY,
  decodeRequest: () => null,
  encodeRequest: () => undefined,
  decodeResponse: reader => reader.string(),
  encodeResponse: (writer, _version, response) => { writer.nullableString(response) },
}

const server = new KafkaServer({
  host: '127.0.0.1',
  port: 0,
  quotas: new ConnectionQuotas(10, 10),
  limits: {
    listener: 'PLAINTEXT',
    maxFrameBytes: 1024 * 1024,
    inflightRequestsMax: 8,
    responseBufferBytesMax: 1024 * 1024,
    idleTimeoutMs: 60_000,
    frameTimeoutMs: 60_000,
  },
  budget: new RequestBudget(16 * 1024 * 1024, 100),
  logger: { warn: message => console.error(`WARN ${message}`) },
}, {
  lookup: key => key === 60 ? { api: api as ApiDefinition<unknown, unknown>, minVersion: 0,
    maxVersion: 0 } : undefined,
  handle: async () => {
    if (mode === 'assert') throw new AssertionError('the test broke an invariant')
    setTimeout(() => { throw new Error('a timer callback threw') }, 1)
    void Promise.reject(new Error('a promise chain without a catch'))
    await new Promise(resolve => setTimeout(resolve, 50))
    return 'still serving'
  },
})
await server.listen()
console.log(`port ${server.port}`)
