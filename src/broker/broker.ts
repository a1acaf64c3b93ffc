/**
 * The broker: routes decoded Kafka requests to their handlers (`handlers/<api>.ts`) and offers
 * the same operations to the HTTP API, so both front ends share one code path.
 *
 * It owns nothing with I/O of its own: the log manager, controller, replica manager and clock
 * are built in `main.ts` and handed in.
 */
import type { BrokerConnections } from './broker-connections.js'
import { TxnMarkerLedger } from './txn-marker-ledger.js'
import { ClientSoftwareRegistry } from './client-software.js'
import type { Controller } from '../controller/controller.js'
import type { Clock } from '../io/clock.js'
import type { MetadataImage, TopicInfo } from '../metadata/image.js'
import type { ApiDefinition } from '../protocol/api.js'
import type { GroupCoordinator } from '../group/coordinator.js'
import type { TransactionCoordinator } from '../txn/txn-coordinator.js'
import type { LogManager } from '../storage/log-manager.js'
import type { ProducerIdManager } from './producer-id-manager.js'
import type { ReplicaManager } from './replica-manager.js'
import { AutoCreateBudget, TopicCreator } from './topic-creator.js'
import type { NoResponse, RequestContext, RequestDispatcher } from './request-context.js'

export interface BrokerSettings {
  nodeId: number
  clusterId: string
  advertisedHost: string
  advertisedPort: number
  autoCreateTopicsEnable: boolean
  deleteTopicEnable: boolean
  numPartitions: number
  defaultReplicationFactor: number
  /** socket.request.max.bytes, for handlers that bound response sizes. */
  socketRequestMaxBytes: number
  /** fetch.max.bytes: the most a Fetch response carries, whatever the client asks. */
  fetchMaxBytes: number
}

export interface BrokerLogger {
  info (message: string): void
  warn (message: string): void
}

/** One served API: its codec, the versions advertised, and its handler. */
export interface HandlerEntry<Request = any, Response = any> {
  api: ApiDefinition<Request, Response>
  minVersion: number
  maxVersion: number
  handle: (broker: Broker, request: Request, context: RequestContext) =>
    Promise<Response | NoResponse>
}

export interface BrokerParts {
  settings: BrokerSettings
  logManager: LogManager
  controller: Controller
  replicaManager: ReplicaManager
  producerIds: ProducerIdManager
  clock: Clock
  logger: BrokerLogger
  /** Broker-level configs for DescribeConfigs and topic-config validation. */
  configs: BrokerConfigView
  groups?: GroupCoordinator
  transactions?: TransactionCoordinator
  /**
   * Starts the transaction coordinator, creating `__transaction_state` on first use as Kafka
   * does (not at start-up: most clusters never see a transaction). Idempotent.
   */
  startTransactions?: () => Promise<void>
  /** In a cluster: connections to the other brokers (transaction markers, verification). */
  brokerConnections?: BrokerConnections
  onRequestDone?: (apiName: string, durationMs: number, failed: boolean) => void
  onResponseWritten?: (apiName: string, behindEarlierMs: number) => void
}

/** What DescribeConfigs/AlterConfigs need from the config schema (src/config). */
export interface ConfigEntryView {
  name: string
  value: string | null
  readOnly: boolean
  isDefault: boolean
  isSensitive: boolean
  source: 'DEFAULT_CONFIG' | 'STATIC_BROKER_CONFIG' | 'DYNAMIC_TOPIC_CONFIG' |
    'DYNAMIC_BROKER_CONFIG'
  synonyms: { name: string, value: string | null, source: ConfigEntryView['source'] }[]
  documentation: string | null
  type: string
}

export interface BrokerConfigView {
  describeBroker (): ConfigEntryView[]
  describeTopic (topic: string, overrides: Map<string, string>): ConfigEntryView[]
  /** Validates topic config overrides; returns an error message naming the property. */
  validateTopicConfigs (configs: Record<string, string | null>): string | undefined
}

export class Broker implements RequestDispatcher {
  readonly settings: BrokerSettings
  readonly logManager: LogManager
  readonly controller: Controller
  readonly replicaManager: ReplicaManager
  readonly producerIds: ProducerIdManager
  readonly clock: Clock
  readonly logger: BrokerLogger
  readonly configs: BrokerConfigView
  /** The one topic-creation path (CreateTopics, auto-creation, HTTP, internal topics). */
  readonly topicCreator: TopicCreator
  /** The client software each open connection named in ApiVersions v3+ (KIP-511). */
  readonly clientSoftware = new ClientSoftwareRegistry()
  /** The transaction markers written to this broker's partitions (coordinator epochs). */
  readonly txnMarkers = new TxnMarkerLedger()
  /** Connections to the other brokers; undefined on a single node. */
  readonly brokerConnections: BrokerConnections | undefined
  readonly #parts: BrokerParts
  readonly #handlers = new Map<number, HandlerEntry>()
  readonly onRequestDone: ((apiName: string, durationMs: number, failed: boolean) => void) |
    undefined

  readonly onResponseWritten: ((apiName: string, behindEarlierMs: number) => void) | undefined

  constructor (parts: BrokerParts, handlers: HandlerEntry[]) {
    this.settings = parts.settings
    this.logManager = parts.logManager
    this.controller = parts.controller
    this.replicaManager = parts.replicaManager
    this.producerIds = parts.producerIds
    this.clock = parts.clock
    this.logger = parts.logger
    this.configs = parts.configs
    this.topicCreator = new TopicCreator(parts.controller, parts.settings, parts.configs)
    this.brokerConnections = parts.brokerConnections
    this.#parts = parts
    this.onRequestDone = parts.onRequestDone
    this.onResponseWritten = parts.onResponseWritten
    for (const entry of handlers) this.#handlers.set(entry.api.key, entry)
  }

  /** The group coordinator (started after the broker object, so read it late). */
  get groups (): GroupCoordinator | undefined {
    return this.#parts.groups
  }

  /** The transaction coordinator (started after the broker object, so read it late). */
  get transactions (): TransactionCoordinator | undefined {
    return this.#parts.transactions
  }

  /**
   * The transaction coordinator, started (and its topic created) on first use; undefined while
   * it cannot start (no controller yet, say), which requests answer COORDINATOR_NOT_AVAILABLE.
   */
  async transactionCoordinator (): Promise<TransactionCoordinator | undefined> {
    if (this.#parts.transactions === undefined) {
      await this.#parts.startTransactions?.().catch((error: unknown) => {
        this.logger.warn(`the transaction coordinator did not start: ${String(error)}`)
      })
    }
    return this.#parts.transactions
  }

  get image (): MetadataImage {
    return this.controller.image
  }

  /** The API keys and version ranges served: what ApiVersions advertises, nothing more. */
  servedApis (): { apiKey: number, minVersion: number, maxVersion: number }[] {
    return [...this.#handlers.values()]
      .map(entry => ({
        apiKey: entry.api.key, minVersion: entry.minVersion, maxVersion: entry.maxVersion,
      }))
      .sort((a, b) => a.apiKey - b.apiKey)
  }

  lookup (apiKey: number): HandlerEntry | undefined {
    return this.#handlers.get(apiKey)
  }

  handle (context: RequestContext, request: unknown): Promise<unknown> {
    const entry = this.#handlers.get(context.header.apiKey)
    if (entry === undefined) return Promise.reject(new Error('no handler'))
    return entry.handle(this, request, context)
  }

  /**
   * The topic, created with the broker defaults if it does not exist and auto-creation is on
   * (Kafka's auto.create.topics.enable) and the caller allows it, within `budget` (one per
   * request: see TopicCreator). Created synchronously so the first Metadata response already
   * carries it. Throws ControllerError when the name cannot be created (invalid, reserved,
   * internal) or the budget is spent (LEADER_NOT_AVAILABLE).
   */
  async topicOrAutoCreate (name: string, allowAutoCreate: boolean,
    budget: AutoCreateBudget = new AutoCreateBudget()): Promise<TopicInfo | undefined> {
    const existing = this.image.topic(name)
    if (existing !== undefined || !allowAutoCreate || !this.settings.autoCreateTopicsEnable) {
      return existing
    }
    return this.topicCreator.autoCreate(name, budget)
  }
}
