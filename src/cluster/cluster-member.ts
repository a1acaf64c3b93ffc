/**
 * A broker's membership of a cluster on etcd: its session (broker-session.ts), the metadata
 * log it follows and, when elected, writes (etcd-metadata-log.ts), the controller election
 * (controller-seat.ts) and forwarding (forwarding.ts). It is the `ControllerRole` of the
 * broker's Controller: active when this broker holds the election, otherwise forwarding.
 *
 * Life cycle, driven by main.ts: `connect` (etcd client, cluster id) → `follow` (load the
 * log into the image, then watch it) → `register` once the listeners have their ports
 * (refused with DuplicateBrokerError for a live duplicate node id) → `controlledShutdown` on
 * SIGTERM, while still serving (leadership moves off this broker) → `close` (resign, end the
 * session, stop watching).
 */
import type { Etcd3 } from 'etcd3'
import {
  ControllerError, type BrokerRegistration, type Controller, type ControllerOperation,
  type ControllerResult, type ControllerRole,
} from '../controller/controller.js'
import { BrokerSession, type SessionLogger } from './broker-session.js'
import { ControllerSeat } from './controller-seat.js'
import { ClusterKeys, connectEtcd } from './etcd-connection.js'
import { EtcdMetadataLog } from './etcd-metadata-log.js'
import { ForwardingClient } from './forwarding.js'

export interface ClusterOptions {
  endpoints: readonly string[]
  clusterName: string
  nodeId: number
  sessionTimeoutMs: number
  /** This data directory's cluster id; the first broker's becomes the cluster's. */
  proposedClusterId: string
  logger: SessionLogger & { error (message: string): void }
}

export class ClusterMember implements ControllerRole {
  readonly log: EtcdMetadataLog
  readonly clusterId: string
  readonly #client: Etcd3
  readonly #keys: ClusterKeys
  readonly #options: ClusterOptions
  #session: BrokerSession | undefined
  #seat: ControllerSeat | undefined
  #forwarding: ForwardingClient | undefined
  #controller: Controller | undefined

  private constructor (client: Etcd3, keys: ClusterKeys, clusterId: string,
    options: ClusterOptions) {
    this.#client = client
    this.#keys = keys
    this.clusterId = clusterId
    this.#options = options
    this.log = new EtcdMetadataLog(client, keys)
  }

  /** Connects to etcd and agrees on the cluster id (the first broker's wins). */
  static async connect (options: ClusterOptions): Promise<ClusterMember> {
    const client = connectEtcd(options.endpoints)
    const keys = new ClusterKeys(options.clusterName)
    try {
      const response = await client.if(keys.clusterId, 'Create', '==', 0)
        .then(client.put(keys.clusterId).value(options.proposedClusterId))
        .else(client.get(keys.clusterId))
        .commit()
      const clusterId = response.succeeded
        ? options.proposedClusterId
        : response.responses[0]?.response_range?.kvs[0]?.value.toString() ??
          options.proposedClusterId
      return new ClusterMember(client, keys, clusterId, options)
    } catch (error) {
      client.close()
      throw new Error(`cannot reach etcd at ${options.endpoints.join(',')}: ` +
        `${(error as Error).message}`)
    }
  }

  /** Replays the whole metadata log into the controller's image, then follows it. */
  async follow (controller: Controller): Promise<void> {
    this.#controller = controller
    // A failure repeats on every wake-up until it clears (etcd down): log each kind once.
    let last = ''
    await this.log.start(controller, error => {
      const message = String(error)
      if (message === last) return
      last = message
      this.#options.logger.error(`following the metadata log failed: ${message}`)
    })
  }

  /** Registers this broker (with its bound listeners), then joins the controller election. */
  async register (registration: Omit<BrokerRegistration, 'brokerId'>): Promise<void> {
    const controller = this.#controller
    if (controller === undefined) throw new Error('follow() comes before register()')
    const session = new BrokerSession(this.#client, this.#keys,
      { brokerId: this.#options.nodeId, ...registration }, this.#options.sessionTimeoutMs,
      this.#options.logger)
    await session.register()
    this.#session = session
    this.#forwarding = new ForwardingClient(this.#client, this.#keys, this.#options.nodeId,
      this.log, () => session.leaseId)
    await this.#forwarding.start()
    this.#seat = new ControllerSeat(this.#client, this.#keys, session, this.log,
      this.#options.logger)
    await this.#seat.start(controller)
  }

  /** The session is alive: this broker may act as a leader. */
  get sessionAlive (): boolean {
    return this.#session?.alive ?? false
  }

  get active (): boolean {
    return this.#seat?.active ?? false
  }

  get activeControllerId (): number {
    return this.#seat?.activeControllerId ?? -1
  }

  async forward (operation: ControllerOperation): Promise<ControllerResult> {
    const forwarding = this.#forwarding
    if (forwarding === undefined || !this.sessionAlive) {
      throw new ControllerError('NOT_CONTROLLER', 'this broker has no live session with ' +
        'the cluster (etcd unreachable?); retry')
    }
    if (this.activeControllerId < 0) {
      throw new ControllerError('NOT_CONTROLLER', 'the cluster has no active controller ' +
        'right now (an election is under way); retry')
    }
    return forwarding.forward(operation)
  }

  /** Waits until an active controller is known (start-up, before creating internal topics). */
  async awaitController (timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.activeControllerId < 0) {
      if (Date.now() > deadline) {
        throw new Error(`no active controller appeared within ${timeoutMs} ms`)
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  /**
   * Controlled shutdown (KIP-631's wantShutDown; Kafka's `controlled.shutdown.enable`): asks
   * the controller to move leadership off this broker and take it out of the ISRs, repeating
   * until this broker's image shows it leads no partition another live in-sync replica could
   * take, or until `timeoutMs` has passed (the shutdown budget). True when it leads nothing it
   * could hand off. Never throws: the shutdown goes on either way.
   */
  async controlledShutdown (timeoutMs: number): Promise<boolean> {
    const controller = this.#controller
    if (controller === undefined || !this.sessionAlive) return false
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const remaining = deadline - Date.now()
      if (remaining <= 0) return false
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        controller.controlledShutdown(this.#options.nodeId),
        new Promise(resolve => { timer = setTimeout(resolve, remaining) }),
      ]).catch(() => undefined).finally(() => clearTimeout(timer))
      if (this.#leadershipToHandOff(controller) === 0) return true
      await new Promise(resolve => setTimeout(resolve, Math.min(100, remaining)))
    }
  }

  /** Partitions this broker leads although another live broker is in their ISR. */
  #leadershipToHandOff (controller: Controller): number {
    const nodeId = this.#options.nodeId
    let count = 0
    for (const topic of controller.image.topics()) {
      for (const partition of topic.partitions) {
        if (partition.leader === nodeId && partition.isr.some(id => id !== nodeId &&
          controller.image.brokers.has(id))) count++
      }
    }
    return count
  }

  async close (): Promise<void> {
    await this.#seat?.close()
    await this.#forwarding?.close()
    await this.#session?.close()
    await this.log.close()
    this.#client.close()
  }
}
