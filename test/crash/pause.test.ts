/**
 * A broker paused longer than client timeouts (SIGSTOP, then SIGCONT; issue #6): requests time
 * out on the client side while it is stopped, the broker serves again once continued, and what
 * was acknowledged before is intact.
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { KafkaClient } from '../../src/client/client.js'
import { readPartition } from '../../src/client/consumer.js'
import { buildRecordBatchSync } from '../../src/records/builder.js'
import { removeDataDir, startBroker } from '../support/broker-process.js'
import { CrashTally } from '../support/crash-tally.js'

const tally = new CrashTally('SIGSTOP/SIGCONT pause case')
after(() => tally.print())

it('serves again after a SIGSTOP longer than the client timeout', () =>
  tally.run('pause', async () => {
    const broker = await startBroker()
    const client = new KafkaClient({ bootstrap: broker.bootstrap, requestTimeoutMs: 1000 })
    try {
      await client.createTopic('paused', { partitions: 1 })
      await client.produce('paused', 0, buildRecordBatchSync([{ value: 'before' }]))
      broker.child.kill('SIGSTOP')
      await assert.rejects(client.produce('paused', 0,
        buildRecordBatchSync([{ value: 'during' }]), { timeoutMs: 500 }),
        /timed out|no response within/)
      await new Promise(resolve => setTimeout(resolve, 2000))
      broker.child.kill('SIGCONT')
      const fresh = new KafkaClient({ bootstrap: broker.bootstrap, requestTimeoutMs: 5000 })
      try {
        await fresh.produce('paused', 0, buildRecordBatchSync([{ value: 'after' }]))
        const values: string[] = []
        for await (const record of readPartition(fresh, 'paused', 0, 0)) {
          values.push(record.value?.toString() ?? '')
        }
        // The request sent while stopped may or may not have been applied (an indefinite
        // failure), but at most once, and everything acknowledged is there in order.
        assert.equal(values[0], 'before')
        assert.equal(values[values.length - 1], 'after')
        assert.ok(values.length === 2 || (values.length === 3 && values[1] === 'during'))
      } finally {
        await fresh.close()
      }
    } finally {
      broker.child.kill('SIGCONT')
      await client.close()
      await broker.stop()
      await removeDataDir(broker.dataDir)
    }
  }))
