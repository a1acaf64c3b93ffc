/**
 * The HTTP API's JSON schemas, one definition each: registered once with `app.addSchema` and
 * referenced by `$ref` from the routes, so validation and the OpenAPI description
 * (`components.schemas` in /openapi.json) come from the same text.
 *
 * Limits on strings a client sends: every identifier has a maximum length, so nothing a
 * client names can grow a response, a log line or a stored record without bound, and every
 * name the broker later echoes over the Kafka protocol (ListGroups, DescribeGroups, member ids
 * built from a client id) stays far below the protocol's 32,767-byte string.
 * - topic names: Kafka's rule (`Topic.validate`): 1 to 249 of `a-zA-Z0-9._-`, not `.` or `..`;
 * - group ids, consumer instance names, header keys, config names: 255 characters (Kafka sets
 *   no limit of its own; 255 × 4 UTF-8 bytes stays small);
 * - config values: 4,096 characters.
 * Record keys, values and header values are data: bounded by the body limit and the topic's
 * `max.message.bytes`, not here. Every wait a client gives (`max_wait_ms`, v2's `timeout`) is at
 * most 30 s here, far below the 2^31-1 ms a timer holds.
 */
import type { FastifyInstance } from 'fastify'
import { MSGPACK } from './respond.js'

export const TOPIC_NAME_MAX = 249
export const TOPIC_NAME_PATTERN = '^(?!\\.{1,2}$)[a-zA-Z0-9._-]+$'
export const NAME_MAX = 255
export const CONFIG_VALUE_MAX = 4096

/** Route tags: one per API family, so /docs groups them. */
export const TAG = {
  native: 'Tributary API',
  consumers: 'Tributary consumer groups',
  restProxy: 'REST Proxy v2',
  operations: 'Operations',
} as const

/** Media types of Tributary's own API, both ways (OpenAPI `consumes`/`produces`). */
export const NATIVE_MEDIA = { consumes: ['application/json', MSGPACK],
  produces: ['application/json', MSGPACK] }

export const ref = (id: string): { $ref: string } => ({ $ref: `${id}#` })

/** What a failing `pattern` or `format` means, for the validation messages (server.ts). */
export const PATTERN_MEANINGS: Record<string, string> = {
  [TOPIC_NAME_PATTERN]: `must be a topic name: 1 to ${TOPIC_NAME_MAX} characters of ` +
    'a-z A-Z 0-9 . _ -, not "." or ".."',
}
export const FORMAT_MEANINGS: Record<string, string> = {
  'date-time': 'must be Unix milliseconds, Unix seconds (a number below 10^11) or an ' +
    'ISO-8601 date-time with a zone (2022-01-01T00:00:00Z)',
}

const TopicName = {
  $id: 'TopicName', type: 'string', minLength: 1, maxLength: TOPIC_NAME_MAX,
  pattern: TOPIC_NAME_PATTERN, examples: ['user-events'],
}
const GroupId = {
  $id: 'GroupId', type: 'string', minLength: 1, maxLength: NAME_MAX,
  examples: ['analytics-service'],
}
const InstanceId = {
  $id: 'InstanceId', type: 'string', minLength: 1, maxLength: NAME_MAX,
  examples: ['rest-7f9c2d1e-0b7a-4d4e-9a55-3c1f2b8e6d10'],
}
const Timestamp = {
  $id: 'Timestamp',
  description: 'Unix milliseconds as in Kafka; a number below 10^11 is Unix seconds ' +
    '(1640995200 is 2022-01-01T00:00:00Z); or an ISO-8601 date-time with a zone. Stored as ' +
    'milliseconds.',
  type: ['number', 'string'], minimum: 0, maximum: 8.64e15, maxLength: 64, format: 'date-time',
  examples: [1640995200000, 1640995200, '2022-01-01T00:00:00Z'],
}
const Data = {
  $id: 'Data',
  description: 'A key or value. A string is stored as UTF-8 and read back as that string; ' +
    '{"base64": "..."} is stored as those bytes and read back the same way when not UTF-8; any ' +
    'other JSON value is stored as its JSON text with the record header ' +
    '`content-type: application/json` and read back as that JSON value. null is a null ' +
    '(a tombstone for a value).',
  examples: ['login', { event: 'click', count: 1 }, { base64: 'AAEC' }],
}
const Headers = {
  $id: 'Headers', type: 'object',
  propertyNames: { maxLength: NAME_MAX },
  additionalProperties: { type: ['string', 'null'] },
  examples: [{ source: 'web' }],
}
const ErrorSchema = {
  $id: 'Error', type: 'object', required: ['error_code', 'message'],
  description: 'Every error: error_code is the HTTP status × 100 + a detail code',
  properties: {
    error_code: { type: 'integer', examples: [42206] },
    message: { type: 'string', examples: ['body.messages is required'] },
    validation_errors: { type: 'array', items: { type: 'object', properties: {
      field: { type: 'string' }, message: { type: 'string' } } } },
  },
}

// Tributary's own API.
const Message = {
  $id: 'Message', type: 'object', required: ['value'], additionalProperties: false,
  properties: {
    key: ref('Data'), value: ref('Data'), timestamp: ref('Timestamp'),
    partition: { type: 'integer', minimum: 0 }, headers: ref('Headers'),
  },
}
const ProduceRequest = {
  $id: 'ProduceRequest', type: 'object', required: ['topic', 'messages'],
  additionalProperties: false,
  properties: {
    topic: ref('TopicName'),
    partition: { type: 'integer', minimum: 0, description: 'For every message without its own' },
    acks: { type: 'integer', enum: [-1, 0, 1], description: 'As Kafka\'s acks (default -1: all)' },
    messages: { type: 'array', minItems: 1, maxItems: 10_000, items: ref('Message') },
  },
  examples: [{ topic: 'user-events', partition: 0, messages: [
    { key: 'user:123', value: 'login', timestamp: 1640995200 },
    { key: 'user:123', value: { page: '/home' }, headers: { source: 'web' } }] }],
}
const ProduceResponse = {
  $id: 'ProduceResponse', type: 'object', required: ['topic', 'results'],
  properties: {
    topic: { type: 'string' },
    results: { type: 'array', description: 'One per message, in request order', items: {
      type: 'object', properties: {
        partition: { type: 'integer' },
        offset: { type: ['integer', 'null'], description: 'null with acks=0' },
        timestamp: { type: 'integer', description: 'The timestamp stored (Unix ms; the ' +
          'broker\'s time when the topic uses LogAppendTime)' },
      } } },
  },
  examples: [{ topic: 'user-events', results: [
    { partition: 0, offset: 0, timestamp: 1640995200000 }] }],
}
const RecordSchema = {
  $id: 'Record', type: 'object',
  properties: {
    offset: { type: 'integer' }, key: ref('Data'), value: ref('Data'),
    timestamp: { type: 'integer', description: 'Unix milliseconds' },
    headers: { type: 'object', additionalProperties: ref('Data') },
  },
  examples: [{ offset: 0, key: 'user:123', value: 'login', timestamp: 1640995200000,
    headers: {} }],
}
const IsolationLevel = {
  $id: 'IsolationLevel', type: 'string', enum: ['read_committed', 'read_uncommitted'],
  default: 'read_committed',
  description: 'Kafka\'s isolation.level (KIP-98). read_committed (the default here) reads ' +
    'up to the last stable offset and leaves out the records of aborted transactions; ' +
    'read_uncommitted reads up to the high watermark, aborted records included. Neither ' +
    'returns transaction markers. Kafka\'s consumers default to read_uncommitted, but they ' +
    'see producer ids and markers; an HTTP reader gets bare records and could not tell an ' +
    'aborted one, and without transactions both levels read the same records.',
}
const ConsumeResponse = {
  $id: 'ConsumeResponse', type: 'object',
  properties: {
    topic: { type: 'string' }, partition: { type: 'integer' },
    records: { type: 'array', items: ref('Record') },
    next_offset: { type: 'integer' }, high_watermark: { type: 'integer' },
  },
}
const CreateTopicRequest = {
  $id: 'CreateTopicRequest', type: 'object', required: ['name'], additionalProperties: false,
  properties: {
    name: ref('TopicName'),
    partitions: { type: 'integer', minimum: 1, description: 'Default num.partitions' },
    replication_factor: { type: 'integer', minimum: 1,
      description: 'Default default.replication.factor' },
    retention_ms: { type: 'integer', minimum: -1, description: 'Sets retention.ms' },
    configs: { type: 'object', propertyNames: { maxLength: NAME_MAX },
      additionalProperties: { type: ['string', 'number', 'boolean'],
        maxLength: CONFIG_VALUE_MAX } },
  },
  examples: [{ name: 'user-events', partitions: 12, replication_factor: 1,
    retention_ms: 604800000 }],
}
const Topic = {
  $id: 'Topic', type: 'object',
  properties: {
    name: { type: 'string' }, topic_id: { type: 'string' }, partitions: { type: 'integer' },
    replication_factor: { type: 'integer' },
    configs: { type: 'object', additionalProperties: { type: 'string' } },
  },
}
const TopicSummary = {
  $id: 'TopicSummary', type: 'object',
  properties: { name: { type: 'string' }, partitions: { type: 'integer' } },
}

// Consumer groups, Tributary's API.
const CreateConsumerRequest = {
  $id: 'CreateConsumerRequest', type: 'object', required: ['group_id', 'topics'],
  additionalProperties: false,
  properties: {
    group_id: ref('GroupId'),
    topics: { type: 'array', minItems: 1, maxItems: 1000, items: ref('TopicName') },
    auto_offset_reset: { type: 'string', enum: ['earliest', 'latest'],
      description: 'Where to start without a committed offset (default latest)' },
    auto_commit: { type: 'boolean', description: 'Default true: each read of records commits ' +
      'the offsets after the records the previous read returned' },
    isolation_level: ref('IsolationLevel'),
  },
  examples: [{ group_id: 'analytics-service', topics: ['user-events'],
    auto_offset_reset: 'earliest' }],
}
const TopicPartition = {
  $id: 'TopicPartition', type: 'object',
  properties: { topic: { type: 'string' }, partition: { type: 'integer' } },
}
const ConsumerInstance = {
  $id: 'ConsumerInstance', type: 'object',
  properties: {
    group_id: { type: 'string' }, instance_id: { type: 'string' }, member_id: { type: 'string' },
    base_uri: { type: 'string', description: 'Absolute URL of this instance' },
    auto_commit: { type: 'boolean' },
    isolation_level: ref('IsolationLevel'),
    assignment: { type: 'array', items: ref('TopicPartition') },
  },
}
const GroupRecord = {
  $id: 'GroupRecord', type: 'object',
  properties: {
    topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer' },
    key: ref('Data'), value: ref('Data'), timestamp: { type: 'integer' },
    headers: { type: 'object', additionalProperties: ref('Data') },
  },
}
const GroupRecords = {
  $id: 'GroupRecords', type: 'object',
  properties: { records: { type: 'array', items: ref('GroupRecord') } },
}
const Offset = {
  $id: 'Offset', type: 'object', required: ['topic', 'partition', 'offset'],
  properties: { topic: ref('TopicName'), partition: { type: 'integer', minimum: 0 },
    offset: { type: 'integer', minimum: 0 } },
}
const Offsets = {
  $id: 'Offsets', type: 'object',
  properties: { offsets: { type: 'array', maxItems: 10_000, items: ref('Offset') } },
  examples: [{ offsets: [{ topic: 'user-events', partition: 0, offset: 2 }] }],
}
const CommittedOffsets = {
  $id: 'CommittedOffsets', type: 'object',
  properties: { offsets: { type: 'array', items: { type: 'object', properties: {
    topic: { type: 'string' }, partition: { type: 'integer' },
    offset: { type: 'integer', description: '-1: nothing committed' } } } } },
}

// Confluent REST Proxy v2.
const V2ProduceRequest = {
  $id: 'V2ProduceRequest', type: 'object', required: ['records'],
  properties: {
    records: { type: 'array', minItems: 1, maxItems: 10_000, items: { type: 'object',
      required: ['value'], properties: {
        key: { description: 'JSON (json format) or a base64 string (binary format)' },
        value: { description: 'JSON (json format) or a base64 string (binary format)' },
        partition: { type: 'integer', minimum: 0 } } } },
  },
  examples: [{ records: [{ key: { id: 1 }, value: { event: 'click' } }] }],
}
const V2ProduceResponse = {
  $id: 'V2ProduceResponse', type: 'object',
  properties: {
    key_schema_id: { type: 'null' }, value_schema_id: { type: 'null' },
    offsets: { type: 'array', items: { type: 'object', properties: {
      partition: { type: 'integer' }, offset: { type: ['integer', 'null'] },
      error_code: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] } } } },
  },
}
const V2Topic = {
  $id: 'V2Topic', type: 'object',
  properties: {
    name: { type: 'string' },
    configs: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
    partitions: { type: 'array', items: { type: 'object', properties: {
      partition: { type: 'integer' }, leader: { type: 'integer' },
      replicas: { type: 'array', items: { type: 'object', properties: {
        broker: { type: 'integer' }, leader: { type: 'boolean' },
        in_sync: { type: 'boolean' } } } } } } },
  },
}
const V2CreateConsumerRequest = {
  $id: 'V2CreateConsumerRequest', type: 'object',
  properties: {
    name: ref('InstanceId'),
    format: { type: 'string', enum: ['json', 'binary'] },
    'auto.offset.reset': { type: 'string', enum: ['earliest', 'latest'] },
    'auto.commit.enable': { type: 'string', enum: ['true', 'false'],
      description: 'Default "true": each read commits what the previous read returned' },
    'isolation.level': { type: 'string', enum: ['read_uncommitted', 'read_committed'],
      description: 'Kafka\'s consumer config (KIP-98), with its default read_uncommitted: ' +
        'REST Proxy v2 consumers take Kafka consumer configs as Kafka does. read_committed ' +
        'stops at the last stable offset and leaves out aborted transactions\' records' },
  },
  examples: [{ name: 'c1', format: 'json', 'auto.offset.reset': 'earliest' }],
}
const V2CreateConsumerResponse = {
  $id: 'V2CreateConsumerResponse', type: 'object',
  properties: { instance_id: { type: 'string' },
    base_uri: { type: 'string', description: 'Absolute URL of this instance' } },
}
const V2Subscription = {
  $id: 'V2Subscription', type: 'object', required: ['topics'],
  properties: { topics: { type: 'array', minItems: 1, maxItems: 1000, items: ref('TopicName') } },
  examples: [{ topics: ['user-events'] }],
}
const V2Record = {
  $id: 'V2Record', type: 'object',
  properties: { topic: { type: 'string' }, key: {}, value: {}, partition: { type: 'integer' },
    offset: { type: 'integer' } },
}

export const SHARED_SCHEMAS = [
  TopicName, GroupId, InstanceId, Timestamp, Data, Headers, ErrorSchema, IsolationLevel,
  Message, ProduceRequest, ProduceResponse, RecordSchema, ConsumeResponse, CreateTopicRequest,
  Topic, TopicSummary, CreateConsumerRequest, TopicPartition, ConsumerInstance, GroupRecord,
  GroupRecords, Offset, Offsets, CommittedOffsets,
  V2ProduceRequest, V2ProduceResponse, V2Topic, V2CreateConsumerRequest,
  V2CreateConsumerResponse, V2Subscription, V2Record,
]

export function addSharedSchemas (app: FastifyInstance): void {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema)
}

/** The error responses every route may give, for the OpenAPI description. */
export const ERROR_RESPONSES = {
  '4xx': { description: 'Bad input: the message names the field', ...ref('Error') },
  '5xx': { description: 'The broker could not serve the request', ...ref('Error') },
}

/** A 2xx response with a description and a shared schema. */
export function okResponse (description: string, schemaId: string): Record<string, unknown> {
  return { description, ...ref(schemaId) }
}
