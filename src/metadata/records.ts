/**
 * Metadata records: the entries of the `__cluster_metadata` log, after KRaft's
 * (`metadata/src/main/resources/common/metadata/*Record.json`). Each is one record value in a
 * batch of that log, encoded with msgpackr. The log is the source of truth: the in-memory
 * `MetadataImage` is only ever changed by replaying these records, both live and at start-up
 * (docs/architecture.md, "Conventions"), so what a restarted broker knows is exactly what it
 * had made durable.
 *
 * Versioning: every record has `type` and `version`; a replayer that meets an unknown type or a
 * newer version stops start-up rather than guess (the log was written by a newer broker).
 */
import { Packr } from 'msgpackr'

export const METADATA_RECORD_VERSION = 1

export interface RegisterBrokerRecord {
  type: 'RegisterBroker'
  version: number
  brokerId: number
  host: string
  port: number
  rack: string | null
  /** Further named listeners (e.g. EXTERNAL) with the address advertised on each. */
  endpoints?: { listener: string, host: string, port: number }[]
  /** A cluster broker's process incarnation (KIP-631's incarnationId), new on every start. */
  incarnationId?: string
}

/**
 * A cluster broker's session ended (its etcd lease expired or it shut down): it is no longer
 * live, so it leads nothing and takes no new replicas (KRaft's fencing, KIP-631).
 */
export interface UnregisterBrokerRecord {
  type: 'UnregisterBroker'
  version: number
  brokerId: number
}

export interface TopicRecord {
  type: 'Topic'
  version: number
  name: string
  /** 16 bytes, base64url like Kafka's Uuid.toString(). */
  topicId: string
}

export interface PartitionRecord {
  type: 'Partition'
  version: number
  topicId: string
  partitionId: number
  replicas: number[]
  isr: number[]
  leader: number
  leaderEpoch: number
  partitionEpoch: number
  /**
   * A reassignment in progress (KIP-455): replicas being added / removed. Absent (every record
   * before reassignments existed, and every partition not being reassigned) reads as [].
   */
  addingReplicas?: number[]
  removingReplicas?: number[]
}

export interface RemoveTopicRecord {
  type: 'RemoveTopic'
  version: number
  topicId: string
}

export interface ConfigRecord {
  type: 'Config'
  version: number
  resourceType: 'topic' | 'broker'
  resourceName: string
  name: string
  /** null removes the override. */
  value: string | null
}

/** Reserves producer ids [firstProducerId, nextProducerId) for `brokerId` (KIP-730). */
export interface ProducerIdsRecord {
  type: 'ProducerIds'
  version: number
  brokerId: number
  nextProducerId: number
}

export type MetadataRecord =
  | RegisterBrokerRecord
  | UnregisterBrokerRecord
  | TopicRecord
  | PartitionRecord
  | RemoveTopicRecord
  | ConfigRecord
  | ProducerIdsRecord

const packr = new Packr({ useRecords: false, moreTypes: false })

export class MetadataRecordError extends Error {
  override name = 'MetadataRecordError'
}

export function encodeMetadataRecord (record: MetadataRecord): Buffer {
  return packr.pack(record)
}

type FieldKind = 'string' | 'number' | 'numbers' | 'nullableString' | 'optionalString' |
  'optionalNumbers'

/**
 * The fields of each record type and their kinds; an optional kind may be absent (fields
 * newer than the record type's first version). Fields not listed are not checked.
 */
const FIELDS: Record<MetadataRecord['type'], Record<string, FieldKind>> = {
  RegisterBroker: { brokerId: 'number', host: 'string', port: 'number', rack: 'nullableString',
    incarnationId: 'optionalString' },
  UnregisterBroker: { brokerId: 'number' },
  Topic: { name: 'string', topicId: 'string' },
  Partition: {
    topicId: 'string', partitionId: 'number', replicas: 'numbers', isr: 'numbers',
    leader: 'number', leaderEpoch: 'number', partitionEpoch: 'number',
    addingReplicas: 'optionalNumbers', removingReplicas: 'optionalNumbers',
  },
  RemoveTopic: { topicId: 'string' },
  Config: { resourceType: 'string', resourceName: 'string', name: 'string',
    value: 'nullableString' },
  ProducerIds: { brokerId: 'number', nextProducerId: 'number' },
}

function hasKind (value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string': return typeof value === 'string'
    case 'nullableString': return value === null || typeof value === 'string'
    case 'number': return Number.isSafeInteger(value)
    case 'numbers': return Array.isArray(value) && value.every(item => Number.isSafeInteger(item))
    case 'optionalString': return value === undefined || hasKind(value, 'string')
    case 'optionalNumbers': return value === undefined || hasKind(value, 'numbers')
  }
}

function unpack (value: Buffer): unknown {
  try {
    return packr.unpack(value)
  } catch (error) {
    throw new MetadataRecordError(`not a metadata record (${(error as Error).message})`)
  }
}

/**
 * Decodes one record value; throws MetadataRecordError for anything that is not a complete
 * record of a known type and version, so replay never feeds the image a half-formed record.
 */
export function decodeMetadataRecord (value: Buffer): MetadataRecord {
  const record = unpack(value) as Partial<MetadataRecord> | null
  if (record === null || typeof record !== 'object' || typeof record.type !== 'string' ||
    !Object.hasOwn(FIELDS, record.type)) {
    throw new MetadataRecordError(
      `unknown metadata record: ${JSON.stringify(record)?.slice(0, 200)}`)
  }
  if (typeof record.version !== 'number' || record.version > METADATA_RECORD_VERSION) {
    throw new MetadataRecordError(
      `metadata record ${record.type} has version ${String(record.version)}, newer than ` +
      `this broker's ${METADATA_RECORD_VERSION}`)
  }
  const fields = record as Record<string, unknown>
  for (const [name, kind] of Object.entries(FIELDS[record.type])) {
    if (!hasKind(fields[name], kind)) {
      throw new MetadataRecordError(`metadata record ${record.type} has no valid ${name} ` +
        `(expected ${kind}, got ${JSON.stringify(fields[name])?.slice(0, 100)})`)
    }
  }
  return record as MetadataRecord
}
