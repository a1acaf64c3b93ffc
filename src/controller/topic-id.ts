/**
 * Topic ids (KIP-516): 16 random bytes, written as Kafka's Uuid.toString() writes them
 * (base64url, no padding, 22 characters). Kafka's Uuid.randomUuid() never hands out the two
 * reserved ids (all zeros, meaning "no id", and METADATA_TOPIC_ID, 1) nor one whose text
 * starts with '-' (it would read as an option on a command line), and neither does this.
 */
import { randomBytes } from 'node:crypto'

const ZERO_ID = Buffer.alloc(16).toString('base64url')
const METADATA_TOPIC_ID = Buffer.from('00000000000000000000000000000001', 'hex')
  .toString('base64url')

export function newTopicId (random: (bytes: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url')
    if (id !== ZERO_ID && id !== METADATA_TOPIC_ID && !id.startsWith('-')) return id
  }
}
