/**
 * Generates Kafka request frames from the schema-as-data field lists (src/protocol/schema.ts,
 * apis/*.ts): a walk over an API's request fields at one version writes a structurally valid
 * request, with values chosen by field name so that requests reach deep into the handlers
 * (real topic names, partitions 0-3, small offsets, real config names). With a per-request
 * rate, fields are written hostile instead (see MUTATIONS), and whole frames are damaged.
 *
 * The walk writes bytes itself rather than building a message for `encodeRequest`, because
 * most hostile values (invalid UTF-8, lengths that lie, counts past the int16/int32 range the
 * writer accepts) cannot be expressed as a message.
 */
import type { ApiDefinition } from '../../src/protocol/api.js'
import { arrayItemsOf, structFieldsOf } from '../../src/protocol/fields.js'
import { schemaOf, type Field, type Primitive } from '../../src/protocol/schema.js'
import { Writer } from '../../src/protocol/writer.js'
import type { Prng } from './prng.js'
import type { RecordSetFactory, RecordSetKind } from './record-batches.js'

export const MUTATIONS = [
  'long-string', 'invalid-utf8', 'null-non-nullable', 'lying-length', 'negative-size',
  'huge-count', 'many-elements', 'boundary-number', 'tagged-fields',
  'record-bomb', 'record-lying-size', 'record-corrupt', 'record-garbage',
  'wrong-version', 'unknown-api', 'truncated-frame', 'frame-size', 'trailing-bytes',
  'byte-flip',
] as const
export type Mutation = typeof MUTATIONS[number]

export interface FuzzRequest {
  frame: Buffer
  apiKey: number
  version: number
  correlationId: number
  /** No mutation was applied: the broker must answer, and the answer must decode. */
  valid: boolean
  /** A valid request the broker answers (false for acks=0 produce). */
  expectsResponse: boolean
  /** The frame is incomplete on purpose: nothing more can be sent on its connection. */
  endsConnection: boolean
  description: string
}

export interface AdvertisedApi {
  api: ApiDefinition<unknown, unknown>
  minVersion: number
  maxVersion: number
}

/** Names the fuzzer's requests use, so they meet real topics and groups. */
export const FUZZ_TOPICS = ['fuzz-0', 'fuzz-1', 'fuzz-2']
const TOPIC_NAMES = [...FUZZ_TOPICS, 'fuzz-auto', '__consumer_offsets', '__cluster_metadata',
  '__transaction_state', '']
const GROUP_IDS = ['fuzz-group-0', 'fuzz-group-0', 'fuzz-group-1', '']
const CONFIG_NAMES = ['segment.bytes', 'retention.ms', 'retention.bytes', 'cleanup.policy',
  'max.message.bytes', 'segment.ms', 'min.insync.replicas', 'flush.messages',
  'message.timestamp.type', 'compression.type', 'no.such.config']
const CONFIG_VALUES = ['0', '-1', '1', '1048576', '100', 'delete', 'compact', 'gzip',
  'CreateTime', '99999999999999999999', 'x', '']
const PRODUCE_KEY = 0
/** A long array stays under this, so one request does not take the fuzzer's time. */
const MANY_ELEMENTS_BYTES_MAX = 4 * 1024 * 1024
const FETCH_KEY = 1
const METADATA_KEY = 3
const API_WEIGHTS = new Map([[PRODUCE_KEY, 6], [FETCH_KEY, 3], [METADATA_KEY, 2]])

/**
 * Group member ids and generations the broker handed out (from JoinGroup answers), so that
 * SyncGroup, Heartbeat, OffsetCommit and LeaveGroup reach a member's state, not just the
 * unknown-member check. Which slot a request uses is drawn from the Prng whatever the pool
 * holds, so a replay draws the same; only the ids (random on the broker) differ.
 */
export class LearnedIds {
  readonly #members: { memberId: string, generationId: number }[] = []

  learn (memberId: string, generationId: number): void {
    if (memberId === '') return
    this.#members.push({ memberId, generationId })
    if (this.#members.length > LEARNED_MEMBERS_MAX) this.#members.shift()
  }

  member (slot: number): { memberId: string, generationId: number } | undefined {
    return this.#members.length === 0 ? undefined : this.#members[slot % this.#members.length]
  }
}

const LEARNED_MEMBERS_MAX = 8

interface Context {
  prng: Prng
  learned: LearnedIds
  /** The learned member this request speaks for, drawn once per request. */
  memberSlot: number
  records: RecordSetFactory
  enabled: ReadonlySet<Mutation>
  /** Chance that one field is written hostile (0 for a valid request). */
  rate: number
  /** Hostile fields per request at most: the first one usually ends the decoding. */
  budget: number
  applied: string[]
  /** The acks value written, so an acks=0 produce is known to get no answer. */
  acks?: number
}

export class RequestGenerator {
  /** The APIs and versions drawn from, as given. */
  readonly apis: AdvertisedApi[]
  readonly #apis: AdvertisedApi[]
  readonly #records: RecordSetFactory
  readonly #enabled: ReadonlySet<Mutation>
  #correlationId = 0

  readonly learned = new LearnedIds()

  constructor (apis: AdvertisedApi[], records: RecordSetFactory, enabled: ReadonlySet<Mutation>) {
    if (apis.length === 0) throw new Error('no advertised API to fuzz')
    this.apis = apis
    // Produce and Fetch carry record sets and touch storage: they get more of the draws.
    this.#apis = apis.flatMap(entry => Array<AdvertisedApi>(API_WEIGHTS.get(entry.api.key) ?? 1)
      .fill(entry))
    this.#records = records
    this.#enabled = enabled
  }

  /** `mutatedShare`: the chance that this request is mutated at all. */
  async next (prng: Prng, mutatedShare = 0.65): Promise<FuzzRequest> {
    const { api, minVersion, maxVersion } = prng.pick(this.#apis)
    const mutated = prng.chance(mutatedShare)
    const context: Context = {
      prng,
      learned: this.learned,
      memberSlot: prng.int(0, LEARNED_MEMBERS_MAX - 1),
      records: this.#records,
      enabled: this.#enabled,
      rate: mutated ? prng.pick([0.05, 0.15, 0.3]) : 0,
      budget: prng.pick([1, 1, 1, 2, 3]),
      applied: [],
    }
    let apiKey = api.key
    let version = prng.int(minVersion, maxVersion)
    // Now and then a version the codec knows but the broker does not advertise, written
    // whole in that version's layout (not just a wrong number in the header).
    const unadvertised = versionsOutside(api, minVersion, maxVersion)
    if (mutated && prng.chance(0.05) && unadvertised.length > 0 &&
      this.#enabled.has('wrong-version')) {
      version = prng.pick(unadvertised)
      note(context, ['', 'version'], `v${version} is not advertised`)
    }
    const flexible = version >= api.flexibleFrom
    const correlationId = this.#correlationId = (this.#correlationId + 1) & 0x7fffffff
    const writer = new Writer()
    writeHeader(writer, context, apiKey, version, correlationId, flexible)
    const schema = schemaOf(api)
    if (schema === undefined) throw new Error(`${api.name} has no schema`)
    await writeStruct(writer, context, schema.request, version, flexible, [api.name])
    let body = writer.toBuffer()
    let endsConnection = false
    if (mutated && (context.applied.length === 0 || prng.chance(0.15))) {
      const damaged = damageFrame(body, context, { apiKey, version, maxVersion })
      body = damaged.body
      apiKey = damaged.apiKey
      version = damaged.version
      endsConnection = damaged.endsConnection
    }
    const valid = context.applied.length === 0
    return {
      frame: endsConnection ? body : withSizePrefix(body),
      apiKey,
      version,
      correlationId,
      valid,
      expectsResponse: valid && !(api.key === PRODUCE_KEY && context.acks === 0),
      endsConnection,
      description: `${api.name} v${version}` +
        (valid ? '' : ` [${context.applied.join('; ')}]`) + ` (${body.length} bytes)`,
    }
  }
}

function versionsOutside (api: { minVersion: number, maxVersion: number },
  advertisedMin: number, advertisedMax: number): number[] {
  const versions: number[] = []
  for (let version = api.minVersion; version <= api.maxVersion; version++) {
    if (version < advertisedMin || version > advertisedMax) versions.push(version)
  }
  return versions
}

function withSizePrefix (body: Buffer): Buffer {
  const prefix = Buffer.alloc(4)
  prefix.writeInt32BE(body.length)
  return Buffer.concat([prefix, body])
}

function writeHeader (writer: Writer, context: Context, apiKey: number, version: number,
  correlationId: number, flexible: boolean): void {
  writer.int16(apiKey).int16(version).int32(correlationId)
  // The client id is a classic nullable string in every header version.
  writeString(writer, context, false, true, ['header', 'clientId'])
  if (flexible) writeTaggedFields(writer, context, ['header'])
}

async function writeStruct (writer: Writer, context: Context, fields: Field[], version: number,
  flexible: boolean, path: string[]): Promise<void> {
  for (const field of fields) {
    const [first, last] = field.versions
    if (version < first || (last !== undefined && version > last)) continue
    // A tagged field travels in the tagged-field buffer, written below (random tags).
    if (field.tag !== undefined) continue
    const nullable = field.nullableFrom !== undefined && version >= field.nullableFrom
    const fieldPath = [...path, field.name]
    const type = field.type
    const struct = structFieldsOf(type)
    if (struct !== undefined) {
      // A single struct: its null marker where nullable (always present here), then its fields.
      if (nullable) writer.int8(1)
      await writeStruct(writer, context, struct, version, flexible, fieldPath)
    } else if (Array.isArray(type) || typeof type === 'object') {
      const items = arrayItemsOf(type) as Primitive | Field[]
      await writeArray(writer, context, items, version, flexible, nullable, fieldPath)
    } else {
      await writePrimitive(writer, context, type, flexible, nullable, fieldPath)
    }
  }
  if (flexible) writeTaggedFields(writer, context, path)
}

/** Draws whether this field is written hostile, and which of the mutations that fit. */
function mutationFor (context: Context, candidates: Mutation[],
  preferred: Mutation[] = []): Mutation | undefined {
  if (context.rate === 0 || context.applied.length >= context.budget ||
    !context.prng.chance(context.rate)) return undefined
  const enabled = (list: Mutation[]): Mutation[] => list.filter(m => context.enabled.has(m))
  const favoured = enabled(preferred)
  if (favoured.length > 0 && context.prng.chance(0.7)) return context.prng.pick(favoured)
  const usable = enabled([...candidates, ...preferred])
  return usable.length === 0 ? undefined : context.prng.pick(usable)
}

function note (context: Context, path: string[], what: string): void {
  context.applied.push(`${path.slice(1).join('.')}: ${what}`)
}

async function writeArray (writer: Writer, context: Context, items: Primitive | Field[],
  version: number, flexible: boolean, nullable: boolean, path: string[]): Promise<void> {
  const { prng } = context
  const mutation = mutationFor(context, ['huge-count', 'negative-size', 'many-elements',
    ...(nullable ? [] : ['null-non-nullable' as const])])
  let count = prng.int(1, path.length <= 2 ? 3 : 2)
  if (nullable && mutation === undefined && prng.chance(0.1)) {
    writeCount(writer, flexible, -1)
    return
  }
  if (mutation === 'null-non-nullable' || mutation === 'negative-size') {
    const written = mutation === 'null-non-nullable' ? -1 : prng.pick([-2, -0x80000000])
    note(context, path, `count ${written}`)
    writeCount(writer, flexible, written)
    return
  }
  if (mutation === 'huge-count') {
    const claimed = prng.pick([0x7fffffff, 0x10000, 1_000_000])
    note(context, path, `count ${claimed} claimed, ${count} written`)
    writeCount(writer, flexible, claimed)
  } else if (mutation !== 'many-elements') {
    writeCount(writer, flexible, count)
  }
  if (mutation === 'many-elements') {
    // One valid element, repeated: the count is the hostile part, and copies are cheap.
    const element = new Writer()
    const inner = { ...context, rate: 0, applied: [] }
    if (Array.isArray(items)) await writeStruct(element, inner, items, version, flexible, path)
    else await writePrimitive(element, inner, items, flexible, false, path)
    const bytes = element.toBuffer()
    count = Math.min(Array.isArray(items) ? prng.int(500, 5000) : prng.int(5000, 50_000),
      Math.floor(MANY_ELEMENTS_BYTES_MAX / Math.max(1, bytes.length)))
    note(context, path, `${count} elements`)
    writeCount(writer, flexible, count)
    for (let i = 0; i < count; i++) writer.raw(bytes)
    return
  }
  for (let i = 0; i < count; i++) {
    if (Array.isArray(items)) await writeStruct(writer, context, items, version, flexible, path)
    else await writePrimitive(writer, context, items, flexible, false, path)
  }
}

/** An array count: int32, or unsigned varint count+1 when flexible (-1 is null). */
function writeCount (writer: Writer, flexible: boolean, count: number): void {
  if (!flexible) writer.int32(count)
  else writer.uvarint(count < 0 ? (count === -1 ? 0 : 0xffffffff) : count + 1)
}

async function writePrimitive (writer: Writer, context: Context, type: Primitive,
  flexible: boolean, nullable: boolean, path: string[]): Promise<void> {
  switch (type) {
    case 'string': writeString(writer, context, flexible, nullable, path); return
    case 'bytes': case 'records': await writeBytes(writer, context, flexible, nullable, path); return
    case 'bool': writer.int8(context.prng.chance(0.5) ? 1 : 0); return
    case 'uuid': writer.raw(context.prng.chance(0.8) ? Buffer.alloc(16) : context.prng.bytes(16))
      return
    default: writeNumber(writer, context, type, path)
  }
}

const RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-0x80000000, 0x7fffffff],
  // The extremes a JS number can carry exactly through Writer.int64.
  int64: [-(2 ** 63), 2 ** 63 - 2048],
}

function writeNumber (writer: Writer, context: Context, type: Primitive, path: string[]): void {
  const [min, max] = RANGES[type] ?? [0, 0]
  let value: number
  if (mutationFor(context, ['boundary-number']) !== undefined) {
    value = context.prng.pick([0, -1, 1, min, max, max - 1, min + 1].filter(v => v >= min))
    note(context, path, `${value}`)
  } else {
    const name = path[path.length - 1] ?? ''
    value = validNumber(context.prng, name)
    if (name === 'acks') context.acks = value
    // A learned member's generation where the draw says so (the draw happens either way).
    if (/^generationId/.test(name) && context.prng.chance(0.7)) {
      value = context.learned.member(context.memberSlot)?.generationId ?? value
    }
  }
  switch (type) {
    case 'int8': writer.int8(value); return
    case 'int16': writer.int16(value); return
    case 'uint16': writer.uint16(value); return
    case 'int32': writer.int32(value); return
    case 'float64': writer.float64(value); return
    default: writer.int64(value)
  }
}

/** A plausible value for a numeric field, by its name. */
function validNumber (prng: Prng, name: string): number {
  if (name === 'acks') return prng.pick([-1, -1, 1, 0])
  if (name === 'replicaId') return -1
  if (name === 'sessionTimeoutMs') return prng.pick([10000, 10000, 6000, 100])
  if (name === 'rebalanceTimeoutMs') return prng.pick([500, 1000, 1000, 5000])
  if (/partition|Index|index|brokerIds/.test(name)) return prng.int(0, 3)
  if (/numPartitions|count/.test(name)) return prng.pick([-1, 1, 2, 4])
  if (name === 'replicationFactor') return prng.pick([-1, 1])
  if (/timeout|Ms$/i.test(name)) return prng.int(0, 200)
  if (/maxBytes/i.test(name)) return prng.pick([0, 1, 1024, 1024 * 1024])
  if (name === 'minBytes') return prng.int(0, 10)
  if (/producerId/.test(name)) return prng.int(-1, 3)
  if (/Epoch|generation/i.test(name)) return prng.int(-1, 2)
  if (/timestamp/i.test(name)) return prng.pick([-2, -1, 0, Date.UTC(2026, 0, 1)])
  if (/offset/i.test(name)) return prng.int(-2, 20)
  if (name === 'resourceType') return prng.pick([2, 2, 4, 0])
  if (name === 'isolationLevel' || name === 'keyType') return prng.int(0, 1)
  if (name === 'configOperation') return prng.int(0, 3)
  if (name === 'endpointType') return prng.int(1, 2)
  return prng.int(0, 5)
}

/** A plausible string for a field, by its name and its parent's. */
function validString (prng: Prng, path: string[]): string {
  const name = path[path.length - 1] ?? ''
  const parent = path[path.length - 2] ?? ''
  if (name === 'topic' || name === 'topicNames' || name === 'resourceName' ||
    (name === 'name' && /topic/i.test(parent))) return prng.pick(TOPIC_NAMES)
  if (/^group(Id|s|sNames)?$/.test(name) || name === 'key' || name === 'coordinatorKeys') {
    return prng.pick(GROUP_IDS)
  }
  if (name === 'memberId') return prng.pick(['', 'fuzz-member'])
  if (name === 'protocolType') return 'consumer'
  if (name === 'protocolName' || (name === 'name' && parent === 'protocols')) return 'range'
  if ((name === 'name' && parent === 'configs') || name === 'configurationKeys') {
    return prng.pick(CONFIG_NAMES)
  }
  if (name === 'value' && parent === 'configs') return prng.pick(CONFIG_VALUES)
  if (name === 'mechanism') return prng.pick(['PLAIN', 'SCRAM-SHA-256'])
  if (name === 'statesFilter') return prng.pick(['Stable', 'Empty'])
  if (name === 'typesFilter') return prng.pick(['classic', 'consumer'])
  if (name === 'clientId') return 'fuzz-client'
  if (/transactionalId/.test(name)) return 'fuzz-txn'
  let text = ''
  for (let length = prng.int(0, 12); length > 0; length--) text += String.fromCharCode(prng.int(97, 122))
  return text
}

function writeString (writer: Writer, context: Context, flexible: boolean, nullable: boolean,
  path: string[]): void {
  const { prng } = context
  const name = path[path.length - 1] ?? ''
  const mutation = mutationFor(context, ['long-string', 'invalid-utf8', 'lying-length',
    'negative-size', ...(nullable ? [] : ['null-non-nullable' as const])])
  if (mutation === 'lying-length' || mutation === 'negative-size' ||
    mutation === 'null-non-nullable') {
    const claimed = mutation === 'lying-length'
      ? prng.pick([0x7fff, 1000])
      : mutation === 'negative-size' ? prng.pick([-2, -0x8000]) : -1
    note(context, path, `string length ${claimed}, 3 bytes written`)
    if (flexible) writer.uvarint(claimed < 0 ? (claimed === -1 ? 0 : 0xffffffff) : claimed + 1)
    else writer.int16(claimed)
    writer.raw(Buffer.from('abc'))
    return
  }
  let bytes: Buffer | null
  if (mutation === 'long-string') {
    const length = prng.pick([256, 11_000, 0x7fff, ...(flexible ? [40_000, 70_000] : [])])
    // A multi-byte character: the length in bytes is what the wire carries.
    bytes = Buffer.from(prng.chance(0.5) ? 'a'.repeat(length) : 'é'.repeat(length >> 1))
    note(context, path, `${bytes.length}-byte string`)
  } else if (mutation === 'invalid-utf8') {
    const length = prng.pick([1, 3, 100, 11_000])
    bytes = Buffer.alloc(length, prng.pick([0xff, 0xc0, 0xed, 0x80]))
    note(context, path, `${length} bytes of invalid UTF-8`)
  } else if (nullable && prng.chance(/transactionalId|InstanceId/.test(name) ? 0.8 : 0.1)) {
    bytes = null
  } else {
    let text = validString(prng, path)
    if (name === 'memberId' && prng.chance(0.7)) {
      text = context.learned.member(context.memberSlot)?.memberId ?? text
    }
    bytes = Buffer.from(text)
  }
  if (bytes === null) {
    if (flexible) writer.uvarint(0)
    else writer.int16(-1)
    return
  }
  if (flexible) writer.uvarint(bytes.length + 1)
  else writer.int16(bytes.length)
  writer.raw(bytes)
}

const RECORD_MUTATIONS: Record<string, RecordSetKind> = {
  'record-bomb': 'bomb',
  'record-lying-size': 'lying-size',
  'record-corrupt': 'corrupt-header',
  'record-garbage': 'garbage',
}

async function writeBytes (writer: Writer, context: Context, flexible: boolean,
  nullable: boolean, path: string[]): Promise<void> {
  const { prng } = context
  const isRecords = path[path.length - 1] === 'records'
  // A records field is where the record-set mutations belong: favour them there.
  const mutation = mutationFor(context, ['lying-length', 'negative-size',
    ...(nullable ? [] : ['null-non-nullable' as const])],
  isRecords ? ['record-bomb', 'record-lying-size', 'record-corrupt', 'record-garbage'] : [])
  let bytes: Buffer | null
  if (mutation === 'lying-length' || mutation === 'negative-size' ||
    mutation === 'null-non-nullable') {
    const claimed = mutation === 'lying-length'
      ? prng.pick([0x7fffffff, 100 * 1024 * 1024, 1000])
      : mutation === 'negative-size' ? prng.pick([-2, -0x80000000]) : -1
    note(context, path, `bytes length ${claimed}, 3 bytes written`)
    if (flexible) writer.uvarint(claimed < 0 ? (claimed === -1 ? 0 : 0xffffffff) : claimed + 1)
    else writer.int32(claimed)
    writer.raw(Buffer.from('abc'))
    return
  }
  if (mutation !== undefined) {
    const set = await context.records.make(prng, RECORD_MUTATIONS[mutation] as RecordSetKind)
    bytes = set.bytes
    note(context, path, set.description)
  } else if (isRecords) {
    bytes = (await context.records.make(prng, 'valid')).bytes
  } else if (nullable && prng.chance(0.1)) {
    bytes = null
  } else {
    bytes = prng.bytes(prng.int(0, 24))
  }
  writer.bytesOf(flexible, bytes)
}

/** The tagged-field buffer of a flexible struct: empty, or hostile. */
function writeTaggedFields (writer: Writer, context: Context, path: string[]): void {
  const { prng } = context
  if (mutationFor(context, ['tagged-fields']) === undefined) {
    writer.uvarint(0)
    return
  }
  const shape = prng.pick(['many', 'huge-size', 'huge-count', 'unknown'] as const)
  note(context, [...path, '_tags'], shape)
  switch (shape) {
    case 'many': {
      const count = prng.int(1000, 20_000)
      writer.uvarint(count)
      for (let tag = 0; tag < count; tag++) writer.uvarint(tag + 100).uvarint(0)
      return
    }
    case 'huge-size':
      writer.uvarint(1).uvarint(prng.int(0, 3)).uvarint(0xfffffff0)
      return
    case 'huge-count':
      writer.uvarint(0xfffffff0)
      return
    case 'unknown': {
      const data = prng.bytes(prng.int(0, 40))
      writer.uvarint(1).uvarint(prng.pick([0, 1, 2, 1000, 0x7fffffff])).uvarint(data.length)
      writer.raw(data)
    }
  }
}

interface Damaged { body: Buffer, apiKey: number, version: number, endsConnection: boolean }

/** A whole-frame mutation: a wrong version or key, a cut, a lying size, stray bytes. */
function damageFrame (body: Buffer, context: Context,
  request: { apiKey: number, version: number, maxVersion: number }): Damaged {
  const { prng } = context
  const frameMutations: Mutation[] = ['wrong-version', 'unknown-api', 'truncated-frame',
    'frame-size', 'trailing-bytes', 'byte-flip']
  const usable = frameMutations.filter(mutation => context.enabled.has(mutation))
  const damaged: Damaged = { body: Buffer.from(body), ...request, endsConnection: false }
  if (usable.length === 0) return damaged
  const mutation = prng.pick(usable)
  switch (mutation) {
    case 'wrong-version':
      damaged.version = prng.pick([request.maxVersion + 1, -1, 0x7fff, -0x8000])
      damaged.body.writeInt16BE(damaged.version, 2)
      break
    case 'unknown-api':
      damaged.apiKey = prng.pick([-1, 4, 7, 57, 68, 1000, 0x7fff])
      damaged.body.writeInt16BE(damaged.apiKey, 0)
      break
    case 'truncated-frame': {
      // The size prefix promises the whole body; only part of it is ever sent.
      const cut = prng.int(0, body.length - 1)
      const prefix = Buffer.alloc(4)
      prefix.writeInt32BE(body.length)
      damaged.body = Buffer.concat([prefix, body.subarray(0, cut)])
      damaged.endsConnection = true
      note(context, ['', 'frame'], `truncated to ${cut} of ${body.length} bytes`)
      return damaged
    }
    case 'frame-size': {
      const claimed = prng.pick([0, -1, 1, 3, 7, body.length + 1, 0x7fffffff,
        100 * 1024 * 1024 + 1, 100 * 1024 * 1024 - 1])
      const prefix = Buffer.alloc(4)
      prefix.writeInt32BE(claimed)
      damaged.body = Buffer.concat([prefix, body])
      damaged.endsConnection = true
      note(context, ['', 'frame'], `size prefix ${claimed} for ${body.length} bytes`)
      return damaged
    }
    case 'trailing-bytes':
      damaged.body = Buffer.concat([body, prng.bytes(prng.int(1, 64))])
      break
    case 'byte-flip':
      for (let i = prng.int(1, 4); i > 0 && body.length > 8; i--) {
        damaged.body[prng.int(8, body.length - 1)] = prng.pick([0x00, 0xff, 0x7f, 0x80,
          prng.int(0, 255)])
      }
      break
    default: break
  }
  note(context, ['', 'frame'], mutation)
  return damaged
}
