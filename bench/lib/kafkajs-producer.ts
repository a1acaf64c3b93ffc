/**
 * kafkajs as the second, labelled client of the produce scenario: the same messages, partitions
 * and concurrency, but kafkajs builds (and checksums) every batch itself for each send, as an
 * application using it would. It shows what a typical Node client reaches, not the broker's
 * ceiling.
 */
import kafkajs from 'kafkajs'
import type { Sampler } from './report.js'

const { Kafka, CompressionTypes, logLevel } = kafkajs

export interface KafkajsProduceOptions {
  bootstrap: string
  topic: string
  partitions: number
  producers: number
  inflight: number
  durationSeconds: number
  messageSize: number
  recordsPerSend: number
  acks: number
  compression: string
  /** Claims `count` messages of the run's budget; false once it is spent. */
  claim: (count: number) => boolean
}

export async function produceWithKafkajs (options: KafkajsProduceOptions, sampler: Sampler,
  onAcknowledged: (latencyMs: number, messages: number, bytes: number) => void): Promise<void> {
  const compression = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }[
    options.compression as 'none' | 'gzip']
  if (compression === undefined) {
    throw new Error('--client kafkajs supports --compression none or gzip, not ' +
      options.compression)
  }
  const kafka = new Kafka({ clientId: 'tributary-bench', brokers: [options.bootstrap],
    logLevel: logLevel.NOTHING })
  const producers = Array.from({ length: options.producers }, () =>
    kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: options.inflight }))
  await Promise.all(producers.map(producer => producer.connect()))
  const value = Buffer.alloc(options.messageSize, 7)
  const messagesPerPartition = Array.from({ length: options.partitions }, (_, partition) =>
    Array.from({ length: options.recordsPerSend }, () => ({ value, partition })))
  const bytesPerSend = options.recordsPerSend * options.messageSize
  const deadline = performance.now() + options.durationSeconds * 1000
  let next = 0
  try {
    await Promise.all(producers.flatMap(producer => Array.from({ length: options.inflight },
      async () => {
        while (performance.now() < deadline && options.claim(options.recordsPerSend)) {
          const partition = next++ % options.partitions
          const sent = performance.now()
          await producer.send({ topic: options.topic, acks: options.acks, compression,
            messages: messagesPerPartition[partition] ?? [] })
          onAcknowledged(performance.now() - sent, options.recordsPerSend, bytesPerSend)
          sampler.add(options.recordsPerSend, bytesPerSend)
        }
      })))
  } finally {
    await Promise.all(producers.map(producer => producer.disconnect()))
  }
}
