/**
 * Fetch v13+ addresses topics by id (KIP-516). Before reading, each requested topic id is
 * resolved to the live topic that has it; an id no live topic has (never existed, or the topic
 * was deleted, even if re-created since under the same name with a new id) is answered
 * UNKNOWN_TOPIC_ID for every partition asked, as Kafka does, so a client holding a stale id
 * refreshes its metadata instead of reading another topic's data.
 */
import type { FetchRequest, FetchResponse } from '../protocol/apis/fetch.js'
import { errorCodeOf } from '../protocol/errors.js'
import type { MetadataImage } from '../metadata/image.js'

type TopicResponse = FetchResponse['responses'][number]

const FIRST_VERSION_WITH_TOPIC_IDS = 13

/**
 * After a read (v13+): the topics whose id no longer names the topic read, because it was
 * deleted (and perhaps re-created under its name) while the fetch waited, get UNKNOWN_TOPIC_ID
 * in place of what was read, so a client holding the old id never gets another topic's data.
 * Returns whether any did.
 */
export function markStaleTopics (image: MetadataImage, responses: TopicResponse[],
  version: number): boolean {
  if (version < FIRST_VERSION_WITH_TOPIC_IDS) return false
  let stale = false
  for (const response of responses) {
    const live = image.topicById((response.topicId ?? NO_TOPIC_ID).toString('base64url'))
    if (live !== undefined && live.name === response.topic) continue
    stale = true
    response.partitions = response.partitions.map(partition =>
      unknownTopicId(partition.partitionIndex))
  }
  return stale
}

const NO_TOPIC_ID = Buffer.alloc(16)

function unknownTopicId (partitionIndex: number): TopicResponse['partitions'][number] {
  return {
    partitionIndex,
    errorCode: errorCodeOf('UNKNOWN_TOPIC_ID'),
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: null,
  }
}

/**
 * The requested topics that name a live topic (with `topic` filled in from v13), and the
 * answers for those that do not.
 */
export function resolveFetchTopics (image: MetadataImage, request: FetchRequest,
  version: number): { known: FetchRequest['topics'], unknown: TopicResponse[] } {
  if (version < FIRST_VERSION_WITH_TOPIC_IDS) return { known: request.topics, unknown: [] }
  const known: FetchRequest['topics'] = []
  const unknown: TopicResponse[] = []
  for (const topic of request.topics) {
    const live = image.topicById(topic.topicId.toString('base64url'))
    if (live !== undefined) {
      known.push({ ...topic, topic: live.name })
      continue
    }
    unknown.push({
      topic: '',
      topicId: topic.topicId,
      partitions: topic.partitions.map(partition => unknownTopicId(partition.partition)),
    })
  }
  return { known, unknown }
}
