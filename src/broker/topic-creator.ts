/**
 * The one path by which a topic comes to exist. Every front end goes through `create`: the
 * CreateTopics handler, auto-creation from Metadata (and any other front end that auto-creates,
 * via Broker.topicOrAutoCreate), HTTP `POST /api/v1/topics`, and the broker's own internal
 * topics (`__consumer_offsets`). One validation: the name (Kafka's rules, the reserved
 * `__cluster_metadata`, internal names only for the broker itself), the partition count and
 * replication factor (-1 or absent: the broker defaults, KIP-464), and the configs against the
 * config schema. The controller then checks against the image and commits, serialized with
 * every other metadata change; the replica manager follows the commit before `create` resolves.
 *
 * Auto-creation is bounded per request (`AutoCreateBudget`): Kafka limits the topic mutations
 * one client can cause with the controller mutation quota (KIP-599, `controller_mutation_rate`);
 * Tributary caps the topics a single request may auto-create at AUTO_CREATE_TOPICS_PER_REQUEST
 * and answers the rest LEADER_NOT_AVAILABLE, which clients retry (the next request creates the
 * next ones), as Kafka answers while an auto-created topic is not ready yet.
 */
import {
  ControllerError, validateNotReserved, validateTopicName, type CreateTopicSpec,
} from '../controller/controller.js'
import type { Controller } from '../controller/controller.js'
import type { TopicInfo } from '../metadata/image.js'
import type { BrokerConfigView, BrokerSettings } from './broker.js'
import { isInternalTopic } from './internal-topics.js'

/** Topics one request may auto-create; further new names answer LEADER_NOT_AVAILABLE. */
export const AUTO_CREATE_TOPICS_PER_REQUEST = 100

/** Who asks: a client's explicit creation, a client's auto-creation, or the broker itself. */
export type TopicCreationCaller = 'client' | 'auto' | 'broker'

export interface NewTopic {
  name: string
  /** -1 or undefined: num.partitions. */
  partitions?: number
  /** -1 or undefined: default.replication.factor. */
  replicationFactor?: number
  configs?: Record<string, string>
}

/** What one request may still auto-create. */
export class AutoCreateBudget {
  #remaining: number

  constructor (topics = AUTO_CREATE_TOPICS_PER_REQUEST) {
    this.#remaining = topics
  }

  /** Takes one creation from the budget; false when it is spent. */
  take (): boolean {
    if (this.#remaining <= 0) return false
    this.#remaining--
    return true
  }
}

export class TopicCreator {
  readonly #controller: Controller
  readonly #settings: BrokerSettings
  readonly #configs: BrokerConfigView

  constructor (controller: Controller, settings: BrokerSettings, configs: BrokerConfigView) {
    this.#controller = controller
    this.#settings = settings
    this.#configs = configs
  }

  /**
   * Validates and creates the topic; resolves once its partition logs are open. Throws
   * ControllerError with the Kafka error name on any refusal.
   */
  async create (topic: NewTopic, caller: TopicCreationCaller): Promise<TopicInfo> {
    return this.#controller.createTopic(this.validate(topic, caller))
  }

  /** The checks of `create`, without creating; returns the spec with defaults resolved. */
  validate (topic: NewTopic, caller: TopicCreationCaller): CreateTopicSpec {
    validateName(topic.name, caller)
    const configs = topic.configs ?? {}
    const invalidConfig = this.#configs.validateTopicConfigs(configs)
    if (invalidConfig !== undefined) throw new ControllerError('INVALID_CONFIG', invalidConfig)
    const spec: CreateTopicSpec = {
      name: topic.name,
      partitions: orDefault(topic.partitions, this.#settings.numPartitions),
      replicationFactor: orDefault(topic.replicationFactor,
        caller === 'auto'
          // Auto-creation takes what the cluster can give, as Kafka's auto-created topics do.
          ? Math.min(this.#settings.defaultReplicationFactor, this.#controller.liveBrokerCount)
          : this.#settings.defaultReplicationFactor),
      configs,
    }
    this.#controller.validateCreateTopic(spec)
    return spec
  }

  /**
   * The topic, auto-created with the broker defaults when it does not exist, auto-creation is
   * allowed (auto.create.topics.enable and the request's own flag) and the request's budget
   * has room. A name that is invalid, reserved or internal is never auto-created.
   */
  async autoCreate (name: string, budget: AutoCreateBudget): Promise<TopicInfo> {
    if (isInternalTopic(name)) {
      throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION',
        `'${name}' is an internal topic; clients do not create it`)
    }
    try {
      // The name first (cheap), so that an invalid name is never told to retry; then the
      // budget, so that a request full of new names costs no more than the budget's worth.
      validateName(name, 'auto')
      if (!budget.take()) {
        throw new ControllerError('LEADER_NOT_AVAILABLE', `topic '${name}' is not created ` +
          `yet: one request auto-creates at most ${AUTO_CREATE_TOPICS_PER_REQUEST} topics; retry`)
      }
      return await this.#controller.createTopic(this.validate({ name }, 'auto'))
    } catch (error) {
      // Another request created it meanwhile, which is just as good.
      const existing = this.#controller.image.topic(name)
      if (error instanceof ControllerError && error.errorName === 'TOPIC_ALREADY_EXISTS' &&
        existing !== undefined) return existing
      throw error
    }
  }
}

/** Kafka's name rules, the reserved metadata topic, and internal names only for the broker. */
function validateName (name: string, caller: TopicCreationCaller): void {
  const invalid = validateTopicName(name)
  if (invalid !== undefined) throw new ControllerError('INVALID_TOPIC_EXCEPTION', invalid)
  validateNotReserved(name)
  if (isInternalTopic(name) && caller !== 'broker') {
    // Kafka answers INVALID_REQUEST for a creation it refuses by name (KRaft's ControllerApis
    // for __cluster_metadata); internal topics are the broker's to create.
    throw new ControllerError('INVALID_REQUEST',
      `'${name}' is an internal topic; only the broker creates it`)
  }
}

function orDefault (value: number | undefined, fallback: number): number {
  return value === undefined || value === -1 ? fallback : value
}
