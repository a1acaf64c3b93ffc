/**
 * The controller election on etcd and the duties of the elected controller.
 *
 * Election: the key `/<cluster>/controller` is created, bound to the broker's session lease, in
 * a transaction that requires it not to exist. The winner's epoch is the key's create revision
 * (a number etcd never gives twice), and every write of the controller (metadata log appends,
 * forwarded answers) compares it, so a deposed controller can never write. When the winner's
 * session ends (shutdown, SIGKILL, lost etcd) the lease takes the key with it and the next
 * broker to look wins: failover takes at most the session timeout plus one ELECTION_POLL_MS.
 *
 * Before acting, a new controller reads the metadata log to its end, so it validates against
 * everything its predecessors committed. While active, every tick it makes the image's live
 * brokers equal the registrations in etcd (`Controller.reconcileBrokers`: registration and
 * session expiry become records, with leadership moved off dead brokers), runs the
 * controller's periodic duties (`Controller.periodicDuties`: reassignment completion, the
 * automatic preferred-leader rebalance) and sweeps forwarded requests. It resigns (stops
 * writing) as soon as its own session is not alive, before etcd can elect another one.
 */
import type { Etcd3 } from 'etcd3'
import type { BrokerRegistration, Controller } from '../controller/controller.js'
import type { BrokerSession, SessionLogger } from './broker-session.js'
import type { ClusterKeys } from './etcd-connection.js'
import type { EtcdMetadataLog } from './etcd-metadata-log.js'
import { ForwardingServer } from './forwarding.js'

/** How often each broker looks at the election (and the controller at the registrations). */
export const ELECTION_POLL_MS = 200

export class ControllerSeat {
  readonly #client: Etcd3
  readonly #keys: ClusterKeys
  readonly #session: BrokerSession
  readonly #log: EtcdMetadataLog
  readonly #logger: SessionLogger
  #controller: Controller | undefined
  #epoch: string | undefined
  #activeControllerId = -1
  #server: ForwardingServer | undefined
  #timer: NodeJS.Timeout | undefined
  #ticking = false
  #closed = false

  constructor (client: Etcd3, keys: ClusterKeys, session: BrokerSession, log: EtcdMetadataLog,
    logger: SessionLogger) {
    this.#client = client
    this.#keys = keys
    this.#session = session
    this.#log = log
    this.#logger = logger
  }

  get active (): boolean { return this.#epoch !== undefined && this.#session.alive }
  get activeControllerId (): number { return this.#activeControllerId }

  /** Starts taking part in elections; resolves after the first look (won or not). */
  async start (controller: Controller): Promise<void> {
    this.#controller = controller
    await this.tick()
    this.#timer = setInterval(() => void this.tick(), ELECTION_POLL_MS)
    this.#timer.unref()
  }

  /** One look at the election; never throws (etcd down just means: look again later). */
  async tick (): Promise<void> {
    if (this.#ticking || this.#closed) return
    this.#ticking = true
    try {
      if (this.#epoch !== undefined && !this.#session.alive) await this.#resign('session lost')
      const current = await this.#client.get(this.#keys.controller).exec()
      const kv = current.kvs[0]
      if (kv === undefined) {
        this.#activeControllerId = -1
        if (this.#epoch !== undefined) await this.#resign('the controller key is gone')
        if (this.#session.alive) await this.#campaign()
      } else {
        this.#activeControllerId = controllerIdOf(kv.value)
        if (this.#epoch !== undefined && kv.create_revision !== this.#epoch) {
          await this.#resign(`another controller was elected (${this.#activeControllerId})`)
        } else if (this.#epoch === undefined && this.#session.alive &&
          kv.lease === this.#session.leaseId) {
          // The key is still bound to this broker's live lease (it resigned while etcd was
          // unreachable, and etcd kept the lease): no one else can have been elected since.
          await this.#takeSeat(kv.create_revision, 'its session is back')
        }
      }
      if (this.active) await this.#duties()
    } catch {
      // etcd unreachable or slow: keep what we know; the next tick looks again.
    } finally {
      this.#ticking = false
    }
  }

  async #campaign (): Promise<void> {
    const nodeId = this.#session.registration.brokerId
    const response = await this.#client.if(this.#keys.controller, 'Create', '==', 0)
      .then(this.#client.put(this.#keys.controller).value(JSON.stringify({ nodeId }))
        .lease(this.#session.leaseId))
      .commit()
    if (!response.succeeded) return
    await this.#takeSeat(response.header.revision, 'elected')
  }

  async #takeSeat (epoch: string, why: string): Promise<void> {
    const nodeId = this.#session.registration.brokerId
    // Everything committed before this election, applied before the first decision.
    await this.#log.wake()
    this.#log.setEpoch({ epoch })
    this.#epoch = epoch
    this.#activeControllerId = nodeId
    const controller = this.#controller
    if (controller !== undefined) {
      this.#server = new ForwardingServer(this.#client, this.#keys, controller, this.#log, epoch)
      await this.#server.start()
    }
    this.#logger.info(`broker ${nodeId} is the active controller (epoch ${epoch}, ${why})`)
  }

  async #duties (): Promise<void> {
    const controller = this.#controller
    if (controller === undefined) return
    const registered = await this.#client.getAll().prefix(this.#keys.brokers).strings()
    const brokers: BrokerRegistration[] = []
    for (const value of Object.values(registered)) {
      const registration = parseRegistration(value)
      if (registration !== undefined) brokers.push(registration)
    }
    brokers.sort((a, b) => a.brokerId - b.brokerId)
    await controller.reconcileBrokers(brokers)
    // Reassignment completion and the automatic preferred-leader rebalance.
    await controller.periodicDuties(Date.now())
    await this.#server?.sweep()
  }

  async #resign (reason: string): Promise<void> {
    this.#log.setEpoch(undefined)
    this.#epoch = undefined
    await this.#server?.stop()
    this.#server = undefined
    this.#logger.warn(`broker ${this.#session.registration.brokerId} is no longer the ` +
      `controller: ${reason}`)
  }

  /** Stops; if this broker is the controller, gives the seat up at once. */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    const epoch = this.#epoch
    this.#log.setEpoch(undefined)
    this.#epoch = undefined
    await this.#server?.stop()
    if (epoch !== undefined) {
      await this.#client.if(this.#keys.controller, 'Create', '==', epoch)
        .then(this.#client.delete().key(this.#keys.controller)).commit().catch(() => undefined)
    }
  }
}

function controllerIdOf (value: Buffer): number {
  try {
    const nodeId = (JSON.parse(value.toString()) as { nodeId?: unknown }).nodeId
    return Number.isSafeInteger(nodeId) ? nodeId as number : -1
  } catch {
    return -1
  }
}

function parseRegistration (value: string): BrokerRegistration | undefined {
  try {
    const registration = JSON.parse(value) as BrokerRegistration
    if (Number.isSafeInteger(registration.brokerId) && typeof registration.host === 'string' &&
      Number.isSafeInteger(registration.port) && Array.isArray(registration.endpoints) &&
      typeof registration.incarnationId === 'string' &&
      (registration.rack === null || typeof registration.rack === 'string')) {
      return registration
    }
  } catch {}
  return undefined
}
