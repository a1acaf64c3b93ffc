/**
 * Where an HTTP produce or consume of one partition runs: on this broker when it leads the
 * partition (the replica manager, exactly as before), else on the partition's leader, over the
 * Kafka protocol with the lean client's connection, as a REST proxy in front of a Kafka cluster
 * does. The leader comes from this broker's metadata image; a leader that just moved answers
 * NOT_LEADER_OR_FOLLOWER, which the HTTP client gets as a retriable 503.
 *
 * Connections (per other broker, at its registered address; bounded by the cluster's size):
 * - one shared connection for Produce (and ListOffsets), pipelined up to PRODUCE_INFLIGHT_MAX
 *   requests (as a Kafka producer keeps one connection per broker): the broker's connection
 *   pool (broker/broker-connections.ts), an instance of its own so that forwarded produces
 *   and the inter-broker transaction requests never queue behind each other;
 * - up to FETCH_CONNECTIONS_MAX connections for Fetch, each carrying one fetch at a time:
 *   Kafka answers a connection's requests in order, so a long poll that waits for records
 *   would hold every request queued behind it. Past the cap a consume answers 503 at once
 *   rather than queue.
 * Every request has a timeout; a broker that re-registers at another address gets new
 * connections. A read whose caller gives up (a closed SSE stream) leaves its fetch to finish
 * on its connection, which goes back to the pool only then.
 *
 * Errors: a Kafka error code from the leader becomes the same HttpError the local path gives
 * for that error name (errors.ts, the one table); no answer from the leader is a 503.
 */
import type { Broker } from '../broker/broker.js'
import { PartitionError, type PartitionRead } from '../broker/replica-manager.js'
import { partitionFetchRequest, partitionListOffsetsRequest } from '../client/client.js'
import { KafkaConnection, KafkaConnectionError } from '../client/connection.js'
import { BrokerConnections, BrokerUnavailableError } from '../broker/broker-connections.js'
import { Fetch } from '../protocol/apis/fetch.js'
import { ListOffsets } from '../protocol/apis/list-offsets.js'
import { Produce } from '../protocol/apis/produce.js'
import { errorByCode } from '../protocol/errors.js'
import { fromKafkaError, HttpError } from './errors.js'

/** Produce requests in flight to one broker; further ones wait (bounded) for a slot. */
const PRODUCE_INFLIGHT_MAX = 64
const PRODUCE_WAITING_MAX = 1024
/** Fetches in flight to one broker at once, one per connection. */
const FETCH_CONNECTIONS_MAX = 64
/** Kafka's request.timeout.ms default; it also bounds the leader's own acks=all wait. */
const REQUEST_TIMEOUT_MS = 30_000
/** Beyond a request's own wait, time for its answer to travel. */
const ANSWER_MARGIN_MS = 5_000
const CONNECT_TIMEOUT_MS = 10_000
const HTTP_CLIENT_ID = 'tributary-http'
/** Largest response frame a forwarded fetch accepts: the read size plus room for framing. */
const FETCH_FRAME_MARGIN_BYTES = 1024 * 1024

export interface AppendOutcome {
  baseOffset: number
  /** -1 unless the topic stamps LogAppendTime. */
  logAppendTimeMs: number
}

/** Where a partition is served: here, or on broker `leaderId`. */
export type Route = { local: true } | { local: false, leaderId: number }

export class LeaderRouter {
  readonly broker: Broker
  readonly #remotes = new Map<number, RemoteBroker>()
  /** The pipelined Produce / ListOffsets connection of each other broker. */
  readonly #produceConnections: BrokerConnections
  #closed = false

  constructor (broker: Broker) {
    this.broker = broker
    this.#produceConnections = new BrokerConnections(broker.image, {
      clientId: HTTP_CLIENT_ID, requestTimeoutMs: REQUEST_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS, inflightMax: PRODUCE_INFLIGHT_MAX,
      waitingMax: PRODUCE_WAITING_MAX,
    })
  }

  /** Here when the image names this broker as leader; throws 503 when there is no live leader. */
  route (topic: string, partition: number): Route {
    const nodeId = this.broker.settings.nodeId
    const leader = this.broker.image.topic(topic)?.partitions[partition]?.leader
    // Unknown topic or partition: the local path answers it as it always has.
    if (leader === undefined || leader === nodeId) return { local: true }
    if (leader < 0 || !this.broker.image.brokers.has(leader)) {
      this.#forget(leader)
      throw fromKafkaError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no live leader`)
    }
    return { local: false, leaderId: leader }
  }

  /** Appends one batch on the partition's leader; undefined with acks=0 (nobody waits). */
  async append (topic: string, partition: number, batch: Buffer, acks: number,
    field: string): Promise<AppendOutcome | undefined> {
    const route = this.route(topic, partition)
    if (route.local) {
      // The same acks as Kafka Produce: -1 (the HTTP default) waits for the in-sync replicas.
      const append = this.broker.replicaManager.appendRecords(topic, partition, batch,
        { acks, timeoutMs: REQUEST_TIMEOUT_MS })
      if (acks === 0) {
        append.catch(() => undefined)
        return undefined
      }
      return localAnswer(append, field)
    }
    return this.#remote(route.leaderId).produce(topic, partition, batch, acks, field)
  }

  /**
   * Reads from `offset` on the partition's leader. Here it answers at once (the caller waits in
   * the purgatory); on another leader the fetch itself waits up to `maxWaitMs` for records.
   */
  async read (topic: string, partition: number, offset: number, maxBytes: number,
    readCommitted: boolean, maxWaitMs: number, field: string, signal?: AbortSignal):
    Promise<PartitionRead & { waited: boolean }> {
    const route = this.route(topic, partition)
    if (route.local) {
      const read = await localAnswer(this.broker.replicaManager.readPartition(topic, partition,
        offset, maxBytes, true, readCommitted), field)
      return { ...read, waited: false }
    }
    const read = await this.#remote(route.leaderId).fetch({ topic, partition, offset, maxBytes,
      readCommitted, maxWaitMs, field }, signal)
    return { ...read, waited: true }
  }

  /**
   * Where a new reader starts: the log start offset (`earliest`), or the end it may read to
   * (`latest`: the last stable offset at read_committed, else the high watermark), as Kafka's
   * ListOffsets answers -2 and -1.
   */
  async startOffset (topic: string, partition: number, from: 'earliest' | 'latest',
    readCommitted: boolean): Promise<number> {
    const route = this.route(topic, partition)
    if (route.local) {
      const replicas = this.broker.replicaManager
      const log = replicas.log(topic, partition)
      if (log === undefined) return 0
      if (from === 'earliest') return log.logStartOffset
      return readCommitted ? log.lastStableOffset : replicas.highWatermark(log)
    }
    return this.#remote(route.leaderId).listOffset(topic, partition,
      from === 'earliest' ? -2 : -1, readCommitted)
  }

  #remote (brokerId: number): RemoteBroker {
    if (this.#closed) throw new HttpError(503, 2, 'the server is shutting down')
    const info = this.broker.image.brokers.get(brokerId)
    if (info === undefined) {
      this.#forget(brokerId)
      throw fromKafkaError('LEADER_NOT_AVAILABLE', `broker ${brokerId} is not live`)
    }
    const address = `${info.host}:${info.port}`
    let remote = this.#remotes.get(brokerId)
    if (remote?.address !== address) {
      remote?.close()
      remote = new RemoteBroker(brokerId, info.host, info.port,
        () => this.#produceConnections.connection(brokerId))
      this.#remotes.set(brokerId, remote)
    }
    return remote
  }

  /** A broker that left: its connections go, so the map holds only brokers still used. */
  #forget (brokerId: number): void {
    this.#remotes.get(brokerId)?.close()
    this.#remotes.delete(brokerId)
  }

  /** Closes every connection; forwarded requests still in flight fail with 503. */
  close (): void {
    this.#closed = true
    for (const remote of this.#remotes.values()) remote.close()
    this.#remotes.clear()
    this.#produceConnections.close()
  }
}

/** A local replica manager call, its PartitionError as the HTTP error for that Kafka error. */
async function localAnswer<T> (pending: Promise<T>, field: string): Promise<T> {
  try {
    return await pending
  } catch (error) {
    if (error instanceof PartitionError) {
      throw fromKafkaError(error.errorName, error.message, field)
    }
    throw error
  }
}

interface FetchSpec {
  topic: string
  partition: number
  offset: number
  maxBytes: number
  readCommitted: boolean
  maxWaitMs: number
  field: string
}

/** The connections to one other broker. */
class RemoteBroker {
  readonly address: string
  readonly #brokerId: number
  readonly #host: string
  readonly #port: number
  /** The pooled Produce / ListOffsets connection to this broker (LeaderRouter's pool). */
  readonly #produceConnection: () => Promise<KafkaConnection>
  /** Open fetch connections not in use, and those carrying a fetch: together at most the cap. */
  readonly #idleFetch: KafkaConnection[] = []
  readonly #busyFetch = new Set<KafkaConnection>()
  /** Fetch connections being opened (counted against the cap). */
  #fetchConnecting = 0
  #closed = false

  constructor (brokerId: number, host: string, port: number,
    produceConnection: () => Promise<KafkaConnection>) {
    this.#brokerId = brokerId
    this.#host = host
    this.#port = port
    this.address = `${host}:${port}`
    this.#produceConnection = produceConnection
  }

  async produce (topic: string, partition: number, batch: Buffer, acks: number,
    field: string): Promise<AppendOutcome | undefined> {
    const request = { transactionalId: null, acks, timeoutMs: REQUEST_TIMEOUT_MS,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] }
    try {
      const connection = await this.#produceConnection()
      if (acks === 0) {
        connection.sendNoResponse(Produce, request)
        return undefined
      }
      const response = await connection.send(Produce, request,
        { timeoutMs: REQUEST_TIMEOUT_MS + ANSWER_MARGIN_MS })
      const result = response.responses[0]?.partitionResponses[0]
      if (result === undefined) throw this.#unanswered('Produce')
      this.#check(result.errorCode, result.errorMessage, field)
      return { baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTimeMs }
    } catch (error) {
      throw this.#asHttp(error)
    }
  }

  /** ListOffsets for one partition (-2: earliest, -1: latest), on the shared connection. */
  async listOffset (topic: string, partition: number, timestamp: number,
    readCommitted: boolean): Promise<number> {
    try {
      const response = await (await this.#produceConnection()).send(ListOffsets,
        partitionListOffsetsRequest(topic, partition, timestamp, readCommitted ? 1 : 0))
      const result = response.topics[0]?.partitions[0]
      if (result === undefined) throw this.#unanswered('ListOffsets')
      this.#check(result.errorCode, null, 'partition')
      return result.offset
    } catch (error) {
      throw this.#asHttp(error)
    }
  }

  async fetch (spec: FetchSpec, signal?: AbortSignal): Promise<PartitionRead> {
    const connection = await this.#leaseFetchConnection()
    const fetching = this.#sendFetch(connection, spec).finally(() => {
      this.#releaseFetchConnection(connection)
    })
    fetching.catch(() => undefined)
    if (signal === undefined) return fetching
    // A caller that gives up gets an empty read now; the fetch finishes on its own connection.
    const empty: PartitionRead = { records: Buffer.alloc(0), highWatermark: -1,
      lastStableOffset: -1, logStartOffset: -1 }
    if (signal.aborted) return empty
    return new Promise((resolve, reject) => {
      const onAbort = (): void => resolve(empty)
      signal.addEventListener('abort', onAbort, { once: true })
      fetching.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  async #sendFetch (connection: KafkaConnection, spec: FetchSpec): Promise<PartitionRead> {
    try {
      const response = await connection.send(Fetch, partitionFetchRequest(spec.topic,
        spec.partition, spec.offset, { maxWaitMs: spec.maxWaitMs, minBytes: 1,
          maxBytes: spec.maxBytes, isolationLevel: spec.readCommitted ? 1 : 0 }),
      { timeoutMs: spec.maxWaitMs + REQUEST_TIMEOUT_MS })
      const result = response.responses[0]?.partitions[0]
      if (result === undefined) throw this.#unanswered('Fetch')
      this.#check(result.errorCode, null, spec.field)
      return {
        records: result.records ?? Buffer.alloc(0),
        highWatermark: result.highWatermark,
        lastStableOffset: result.lastStableOffset,
        logStartOffset: result.logStartOffset,
        abortedTransactions: result.abortedTransactions ?? [],
      }
    } catch (error) {
      throw this.#asHttp(error)
    }
  }

  async #leaseFetchConnection (): Promise<KafkaConnection> {
    while (this.#idleFetch.length > 0) {
      const idle = this.#idleFetch.pop() as KafkaConnection
      if (!idle.closed) {
        this.#busyFetch.add(idle)
        return idle
      }
    }
    if (this.#busyFetch.size + this.#fetchConnecting >= FETCH_CONNECTIONS_MAX) {
      throw new HttpError(503, 5, `${FETCH_CONNECTIONS_MAX} reads are already forwarded to ` +
        `broker ${this.#brokerId}, the partition's leader; retry shortly`)
    }
    this.#fetchConnecting++
    try {
      const connection = await this.#connect({ inflightMax: 1, waitingMax: 0 })
      this.#busyFetch.add(connection)
      return connection
    } catch (error) {
      throw this.#asHttp(error)
    } finally {
      this.#fetchConnecting--
    }
  }

  #releaseFetchConnection (connection: KafkaConnection): void {
    this.#busyFetch.delete(connection)
    if (this.#closed || connection.closed) connection.close()
    else this.#idleFetch.push(connection)
  }

  #connect (limits: { inflightMax: number, waitingMax: number }): Promise<KafkaConnection> {
    if (this.#closed) return Promise.reject(new HttpError(503, 2, 'the server is shutting down'))
    return KafkaConnection.connect(this.#host, this.#port, {
      clientId: HTTP_CLIENT_ID, requestTimeoutMs: REQUEST_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS, maxFrameBytes: 64 * 1024 * 1024 +
        FETCH_FRAME_MARGIN_BYTES, ...limits,
    }).then(connection => {
      // Closed while connecting: the caller's request then fails at once.
      if (this.#closed) connection.close()
      return connection
    })
  }

  #check (errorCode: number, message: string | null, field: string): void {
    if (errorCode === 0) return
    const name = errorByCode(errorCode)?.name ?? 'UNKNOWN_SERVER_ERROR'
    throw fromKafkaError(name, `${message ?? name} (on broker ${this.#brokerId}, the ` +
      'partition\'s leader)', field)
  }

  #unanswered (api: string): HttpError {
    return new HttpError(502, 1, `broker ${this.#brokerId} answered ${api} without the ` +
      'partition asked about')
  }

  /** No answer from the leader (refused, dropped or timed out): retriable, 503. */
  #asHttp (error: unknown): unknown {
    if (error instanceof KafkaConnectionError || error instanceof BrokerUnavailableError) {
      return new HttpError(503, 6, `the partition's leader, broker ${this.#brokerId}, did not ` +
        `answer (${error.message}); retry shortly`)
    }
    return error
  }

  close (): void {
    this.#closed = true
    for (const connection of [...this.#idleFetch, ...this.#busyFetch]) connection.close()
    this.#idleFetch.length = 0
  }
}
