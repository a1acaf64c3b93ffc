/**
 * Connections from this broker to the other brokers of the cluster, for the inter-broker
 * requests the transaction coordinator and the partition leaders send each other
 * (WriteTxnMarkers to a partition leader, AddPartitionsToTxn verify_only to a transaction
 * coordinator), as Kafka's NodeToNodeChannelManager / TransactionMarkerChannelManager keep one
 * network client per destination broker.
 *
 * One pooled KafkaConnection per broker id at the address the metadata image registers for it
 * (a broker that restarted on a new address gets a new connection). Each connection bounds its
 * requests in flight (`inflightMax`) and its waiting callers (`waitingMax`: more reject at
 * once) and every request has a timeout, so a dead or slow peer costs a bounded amount of
 * memory and time. The pool holds at most one entry per registered broker.
 *
 * The connection options are the pool's: the broker's inter-broker pool uses
 * INTER_BROKER_OPTIONS; another pool of one pipelined connection per broker (the HTTP
 * server's forwarded produces, src/http/leader-router.ts) can be another instance with its
 * own client id and bounds, so its traffic does not queue behind the markers' or theirs
 * behind it.
 */
import {
  type ConnectionOptions, KafkaConnection, type SendOptions,
} from '../client/connection.js'
import type { ApiDefinition } from '../protocol/api.js'
import type { MetadataImage } from '../metadata/image.js'

/**
 * The inter-broker requests' connection options. Kafka's request.timeout.ms for inter-broker
 * requests is 30 s; markers retry sooner.
 */
export const INTER_BROKER_OPTIONS: ConnectionOptions = {
  clientId: 'tributary-broker',
  requestTimeoutMs: 10_000,
  inflightMax: 16,
  waitingMax: 1_000,
}

export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError'
}

export class BrokerConnections {
  readonly #image: MetadataImage
  readonly #options: ConnectionOptions
  readonly #connections = new Map<number, { address: string,
    connection: Promise<KafkaConnection> }>()
  #closed = false

  /** `options` for every connection (client id, timeouts, in-flight bounds, frame size). */
  constructor (image: MetadataImage, options: ConnectionOptions = INTER_BROKER_OPTIONS) {
    this.#image = image
    this.#options = options
  }

  /** Sends one request to broker `brokerId`; rejects on no such broker, I/O errors, timeout. */
  async send<Req, Res> (brokerId: number, api: ApiDefinition<Req, Res>, request: Req,
    options: SendOptions = {}): Promise<Res> {
    const connection = await this.connection(brokerId)
    return connection.send(api, request, options)
  }

  /**
   * The open pooled connection to broker `brokerId` (reopened if it closed, or if the broker
   * registered another address), for callers that need more than `send` (sendNoResponse).
   */
  connection (brokerId: number): Promise<KafkaConnection> {
    if (this.#closed) return Promise.reject(new BrokerUnavailableError('connections closed'))
    const node = this.#image.brokers.get(brokerId)
    if (node === undefined) {
      return Promise.reject(new BrokerUnavailableError(`broker ${brokerId} is not registered`))
    }
    const address = `${node.host}:${node.port}`
    const cached = this.#connections.get(brokerId)
    if (cached !== undefined && cached.address === address) {
      return cached.connection.then(open => open.closed ? this.#reconnect(brokerId, cached)
        : open)
    }
    if (cached !== undefined) void cached.connection.then(open => open.close(), () => undefined)
    const entry = {
      address,
      connection: KafkaConnection.connect(node.host, node.port, this.#options),
    }
    entry.connection.catch(() => {
      if (this.#connections.get(brokerId) === entry) this.#connections.delete(brokerId)
    })
    this.#connections.set(brokerId, entry)
    // Brokers that left the image are forgotten, so the pool stays one entry per broker.
    for (const id of this.#connections.keys()) {
      if (!this.#image.brokers.has(id)) this.#drop(id)
    }
    return entry.connection
  }

  #reconnect (brokerId: number, stale: { connection: Promise<KafkaConnection> }):
  Promise<KafkaConnection> {
    if (this.#connections.get(brokerId)?.connection === stale.connection) {
      this.#connections.delete(brokerId)
    }
    return this.connection(brokerId)
  }

  #drop (brokerId: number): void {
    const entry = this.#connections.get(brokerId)
    this.#connections.delete(brokerId)
    void entry?.connection.then(open => open.close(), () => undefined)
  }

  close (): void {
    this.#closed = true
    for (const id of [...this.#connections.keys()]) this.#drop(id)
  }
}
