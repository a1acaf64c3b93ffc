/**
 * partition.metadata (KIP-516): the text Kafka's PartitionMetadataFile writes, and
 * LogManager.recordTopicId on a real directory: written when missing, rewritten when it names
 * another id (a topic re-created under the same name), left alone when current.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { LogManager } from '../../src/storage/log-manager.js'
import {
  formatPartitionMetadata, parsePartitionMetadata,
} from '../../src/storage/partition-metadata.js'

const ID = 'ASNFZ4mrze8BI0VniavN7w'
const OTHER = 'pc6BDe_kdK9_yLxxx1DPfQ'

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-pmeta-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

describe('partition.metadata', () => {
  it('is written and read as Kafka writes it', () => {
    assert.equal(formatPartitionMetadata(ID), `version: 0\ntopic_id: ${ID}\n`)
    assert.equal(parsePartitionMetadata(`version: 0\ntopic_id: ${ID}\n`), ID)
    assert.equal(parsePartitionMetadata(`version: 0\r\ntopic_id: ${ID}`), ID)
    assert.equal(parsePartitionMetadata(`version: 1\ntopic_id: ${ID}\n`), undefined)
    assert.equal(parsePartitionMetadata('topic_id: x\n'), undefined)
  })

  it('is recorded in an open log\'s directory, rewritten for another id, kept when current',
    async () => {
      const manager = await LogManager.open({ dataDir, nodeId: 1 })
      try {
        const file = path.join(dataDir, 'orders-0', 'partition.metadata')
        await manager.recordTopicId('orders', 0, ID) // no log yet: nothing to record
        await assert.rejects(stat(file))
        await manager.getOrCreateLog('orders', 0)
        await manager.recordTopicId('orders', 0, ID)
        assert.equal(await readFile(file, 'utf8'), formatPartitionMetadata(ID))
        await writeFile(file, formatPartitionMetadata(OTHER))
        await manager.recordTopicId('orders', 0, OTHER) // known: the file is not read again
        await manager.recordTopicId('orders', 0, ID)
        assert.equal(await readFile(file, 'utf8'), formatPartitionMetadata(ID))
      } finally {
        await manager.close()
      }
    })
})
