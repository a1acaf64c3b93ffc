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
      partitions: topic.partitions.map(partition => ({
        partitionIndex: partition.partition,
        errorCode: errorCodeOf('UNKNOWN_TOPIC_ID'),
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: null,
      })),
    })
  }
  return { known, unknown }
}
