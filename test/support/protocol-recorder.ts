/**
 * A TCP proxy between a Kafka client and a broker that records which APIs, at which versions,
 * the client actually sent, and what the broker advertised in its ApiVersions answers. It reads
 * only the first bytes of each frame (request header, correlation id) and forwards every byte
 * unchanged, so it works for any client in any language.
 *
 * Use: start the recorder, start the broker advertising the recorder's port
 * (`TRIBUTARY_ADVERTISED_PORT`, Kafka's advertised.listeners) so that every connection a client
 * makes after bootstrap also passes through it, then `forwardTo` the broker's real port.
 * Connections that arrive before `forwardTo` wait for it (bounded by TARGET_WAIT_MS).
 *
 * Per frame the recorder keeps at most HEAD_BYTES_MAX bytes; the rest is counted and skipped.
 * Correlation ids waiting for an answer are bounded per connection (PENDING_MAX): a test
 * client never has that many requests in flight.
 */
import net from 'node:net'
import { API_DEFINITIONS } from '../../src/protocol/registry.js'
import { ApiVersions, type ApiVersionRange } from '../../src/protocol/apis/api-versions.js'
import { Reader } from '../../src/protocol/reader.js'
import { API_VERSIONS_KEY } from '../../src/protocol/headers.js'

/** Enough for any request header (client id ≤ 32,767 bytes) and any ApiVersions frame. */
export const HEAD_BYTES_MAX = 64 * 1024
const PENDING_MAX = 10_000
const TARGET_WAIT_MS = 30_000

/**
 * Names of Kafka API keys that Tributary has no codec for (Apache Kafka 4.1's
 * clients/src/main/resources/common/message/*Request.json); the others come from our registry.
 */
const KAFKA_ONLY_API_NAMES: Readonly<Record<number, string>> = {
  4: 'LeaderAndIsr',
  5: 'StopReplica',
  6: 'UpdateMetadata',
  7: 'ControlledShutdown',
  21: 'OffsetForLeaderEpoch',
  30: 'CreateAcls',
  29: 'DescribeAcls',
  31: 'DeleteAcls',
  34: 'AlterReplicaLogDirs',
  35: 'DescribeLogDirs',
  38: 'CreateDelegationToken',
  39: 'RenewDelegationToken',
  40: 'ExpireDelegationToken',
  41: 'DescribeDelegationToken',
  43: 'ElectLeaders',
  45: 'AlterPartitionReassignments',
  46: 'ListPartitionReassignments',
  48: 'DescribeClientQuotas',
  49: 'AlterClientQuotas',
  50: 'DescribeUserScramCredentials',
  51: 'AlterUserScramCredentials',
  55: 'DescribeQuorum',
  57: 'UpdateFeatures',
  61: 'DescribeProducers',
  64: 'UnregisterBroker',
  65: 'DescribeTransactions',
  66: 'ListTransactions',
  68: 'ConsumerGroupHeartbeat',
  69: 'ConsumerGroupDescribe',
  71: 'GetTelemetrySubscriptions',
  72: 'PushTelemetry',
  74: 'ListConfigResources',
  75: 'DescribeTopicPartitions',
  76: 'ShareGroupHeartbeat',
  77: 'ShareGroupDescribe',
  78: 'ShareFetch',
  79: 'ShareAcknowledge',
  80: 'AddRaftVoter',
  81: 'RemoveRaftVoter',
  83: 'InitializeShareGroupState',
  84: 'ReadShareGroupState',
  85: 'WriteShareGroupState',
  86: 'DeleteShareGroupState',
  87: 'ReadShareGroupStateSummary',
  88: 'StreamsGroupHeartbeat',
  89: 'StreamsGroupDescribe',
  90: 'DescribeShareGroupOffsets',
  91: 'AlterShareGroupOffsets',
  92: 'DeleteShareGroupOffsets',
}

const REGISTRY_NAMES = new Map(API_DEFINITIONS.map(api => [api.key, api.name]))

export function apiName (apiKey: number): string {
  return REGISTRY_NAMES.get(apiKey) ?? KAFKA_ONLY_API_NAMES[apiKey] ?? `ApiKey${apiKey}`
}

export interface ApiUse {
  apiKey: number
  name: string
  version: number
  /** Requests sent at this version. */
  requests: number
  /** Of those, how many the broker never answered (it closed the connection first). */
  unanswered: number
  /** The client ids that sent it (Java: producer-1, consumer-g-1, adminclient-1, ...). */
  clientIds: string[]
}

export interface AdvertisedApi extends ApiVersionRange { name: string }

export interface ProtocolRecording {
  /** What the broker's last successful ApiVersions answer advertised, by API key. */
  advertised: AdvertisedApi[]
  /** ApiVersions v3+ client_software_name/version pairs as the clients sent them. */
  clientSoftware: { name: string | null, version: string | null }[]
  /** Every (API, version) a client sent, by API key then version. */
  used: ApiUse[]
  /** Requests at a version above what the broker advertised (or of an API it does not serve). */
  beyondAdvertised: ApiUse[]
  connections: number
}

interface Pending { apiKey: number, version: number }

export interface RecorderOptions {
  /** Connections whose first request carries this client id are forwarded but not recorded. */
  ignoreClientId?: string
}

/** Per proxied connection: requests awaiting an answer; whether it is recorded at all. */
interface ConnectionState {
  pending: Map<number, Pending>
  recorded: boolean | undefined
}

/** Splits a byte stream of size-prefixed frames, keeping the first HEAD_BYTES_MAX of each. */
export class FrameHeads {
  private readonly sizeBytes = Buffer.alloc(4)
  private sizeFilled = 0
  private head: Buffer | null = null
  private headFilled = 0
  private skip = 0

  /** Feeds a chunk; calls `onHead` with the head of every frame completed in it. */
  push (chunk: Buffer, onHead: (head: Buffer) => void): void {
    let at = 0
    while (at < chunk.length) {
      if (this.head === null) {
        const take = Math.min(4 - this.sizeFilled, chunk.length - at)
        chunk.copy(this.sizeBytes, this.sizeFilled, at, at + take)
        this.sizeFilled += take
        at += take
        if (this.sizeFilled < 4) return
        const size = Math.max(0, this.sizeBytes.readInt32BE(0))
        this.sizeFilled = 0
        const headSize = Math.min(size, HEAD_BYTES_MAX)
        this.head = Buffer.alloc(headSize)
        this.headFilled = 0
        this.skip = size - headSize
      }
      const headTake = Math.min(this.head.length - this.headFilled, chunk.length - at)
      chunk.copy(this.head, this.headFilled, at, at + headTake)
      this.headFilled += headTake
      at += headTake
      const skipTake = Math.min(this.skip, chunk.length - at)
      this.skip -= skipTake
      at += skipTake
      if (this.headFilled === this.head.length && this.skip === 0) {
        const done = this.head
        this.head = null
        onHead(done)
      }
    }
  }
}

export class ProtocolRecorder {
  readonly port: number
  private readonly server: net.Server
  private target: Promise<number>
  private resolveTarget: (port: number) => void = () => undefined
  private readonly uses = new Map<string, ApiUse>()
  private readonly software = new Map<string, { name: string | null, version: string | null }>()
  private advertised: AdvertisedApi[] = []
  private connections = 0
  private readonly sockets = new Set<net.Socket>()
  private readonly options: RecorderOptions

  private constructor (server: net.Server, port: number, options: RecorderOptions) {
    this.server = server
    this.port = port
    this.options = options
    this.target = new Promise(resolve => { this.resolveTarget = resolve })
    server.on('connection', socket => { this.accept(socket) })
  }

  static async start (options: RecorderOptions = {}): Promise<ProtocolRecorder> {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve() })
    })
    return new ProtocolRecorder(server, (server.address() as net.AddressInfo).port, options)
  }

  /** Points the proxy at the broker's real Kafka port. */
  forwardTo (brokerPort: number): void {
    this.resolveTarget(brokerPort)
    this.target = Promise.resolve(brokerPort)
  }

  recording (): ProtocolRecording {
    const used = [...this.uses.values()]
      .sort((a, b) => a.apiKey - b.apiKey || a.version - b.version)
      .map(use => ({ ...use, clientIds: [...use.clientIds].sort() }))
    const maxByKey = new Map(this.advertised.map(api => [api.apiKey, api.maxVersion]))
    return {
      advertised: this.advertised,
      clientSoftware: [...this.software.values()],
      used,
      beyondAdvertised: used.filter(use => use.apiKey !== API_VERSIONS_KEY &&
        use.version > (maxByKey.get(use.apiKey) ?? -1)),
      connections: this.connections,
    }
  }

  async close (): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }

  private accept (client: net.Socket): void {
    this.connections++
    this.sockets.add(client)
    client.pause()
    const state: ConnectionState = { pending: new Map(), recorded: undefined }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error('no broker port to forward to')) },
        TARGET_WAIT_MS)
    })
    Promise.race([this.target, timeout]).then(port => {
      clearTimeout(timer)
      this.pipe(client, net.connect(port, '127.0.0.1'), state)
    }, () => { client.destroy() })
  }

  private pipe (client: net.Socket, broker: net.Socket, state: ConnectionState): void {
    this.sockets.add(broker)
    const requests = new FrameHeads()
    const responses = new FrameHeads()
    client.on('data', chunk => {
      requests.push(chunk, head => { this.onRequest(head, state) })
      if (!broker.write(chunk)) client.pause()
    })
    broker.on('data', chunk => {
      responses.push(chunk, head => { this.onResponse(head, state.pending) })
      if (!client.write(chunk)) broker.pause()
    })
    broker.on('drain', () => client.resume())
    client.on('drain', () => broker.resume())
    const finish = (): void => {
      for (const { apiKey, version } of state.pending.values()) {
        const use = this.uses.get(`${apiKey}:${version}`)
        if (use !== undefined) use.unanswered++
      }
      state.pending.clear()
      client.destroy()
      broker.destroy()
      this.sockets.delete(client)
      this.sockets.delete(broker)
    }
    client.on('close', finish)
    broker.on('close', finish)
    client.on('error', finish)
    broker.on('error', finish)
    broker.once('connect', () => client.resume())
  }

  private onRequest (head: Buffer, state: ConnectionState): void {
    if (head.length < 10 || state.recorded === false) return
    const reader = new Reader(head)
    const apiKey = reader.int16()
    const version = reader.int16()
    const correlationId = reader.int32()
    let clientId: string | null = null
    try {
      clientId = reader.nullableString()
      state.recorded ??= clientId !== this.options.ignoreClientId
      if (!state.recorded) return
      if (apiKey === API_VERSIONS_KEY && version >= 3) this.onApiVersionsRequest(reader)
    } catch {
      // A header we cannot read is still forwarded; the broker answers it.
    }
    const key = `${apiKey}:${version}`
    const use = this.uses.get(key) ?? {
      apiKey, name: apiName(apiKey), version, requests: 0, unanswered: 0, clientIds: [],
    }
    use.requests++
    if (clientId !== null && !use.clientIds.includes(clientId)) use.clientIds.push(clientId)
    this.uses.set(key, use)
    if (state.pending.size < PENDING_MAX) state.pending.set(correlationId, { apiKey, version })
  }

  /** Request header v2 tags, then client_software_name and _version (KIP-511). */
  private onApiVersionsRequest (reader: Reader): void {
    reader.taggedFields()
    const name = reader.compactNullableString()
    const version = reader.compactNullableString()
    this.software.set(`${name}/${version}`, { name, version })
  }

  private onResponse (head: Buffer, pending: Map<number, Pending>): void {
    if (head.length < 4) return
    const correlationId = head.readInt32BE(0)
    const request = pending.get(correlationId)
    pending.delete(correlationId)
    if (request === undefined || request.apiKey !== API_VERSIONS_KEY || head.length < 6) return
    // The ApiVersions response header is always v0 (KIP-511). An error answer (e.g.
    // UNSUPPORTED_VERSION, in the v0 layout) is skipped: the client asks again at a version
    // the broker serves, and that answer is the one recorded.
    if (head.readInt16BE(4) !== 0) return
    try {
      const response = ApiVersions.decodeResponse(new Reader(head, 4), request.version)
      this.advertised = response.apiKeys.map(api => ({ ...api, name: apiName(api.apiKey) }))
    } catch {
      // An answer we cannot decode leaves the last good one in place.
    }
  }
}
