/**
 * A cluster broker's session: an etcd lease with TTL `broker.session.timeout.ms` (Kafka's
 * KRaft broker session, KIP-631) and the registration `/<cluster>/brokers/<node id>` bound to
 * it: node id, rack (`broker.rack`), listeners and an incarnation id new on every start.
 *
 * Registration is a transaction that puts the key only if it does not exist, so two live
 * brokers never share a node id. A key held by another incarnation may be the lease of this
 * broker's previous process (killed a moment ago); like KRaft, which answers
 * DUPLICATE_BROKER_REGISTRATION until the old session times out, registration retries until
 * one session timeout has passed and then refuses with DuplicateBrokerError.
 *
 * Fencing: `alive` is true only while the last successful keepalive is younger than the
 * session timeout. etcd expires the lease on its side after the same TTL, so by the time the
 * controller can see this broker gone, the broker has already stopped acting as a leader
 * (the replica manager asks `alive`). A lost lease is re-granted and the registration put
 * again, every RETRY_MS, until it works.
 */
import type { Etcd3, Lease } from 'etcd3'
import type { BrokerRegistration } from '../controller/controller.js'
import { ClusterKeys } from './etcd-connection.js'

const RETRY_MS = 500
/** etcd refuses TTLs below about 1.5 election timeouts; 2 s is the smallest safe one. */
const LEASE_TTL_MIN_S = 2

export class DuplicateBrokerError extends Error {
  override name = 'DuplicateBrokerError'
}

export interface SessionLogger {
  info (message: string): void
  warn (message: string): void
}

export class BrokerSession {
  readonly #client: Etcd3
  readonly #keys: ClusterKeys
  readonly #registration: BrokerRegistration
  readonly #sessionTimeoutMs: number
  readonly #logger: SessionLogger
  #lease: Lease | undefined
  #leaseId = ''
  #lastKeepAliveMs = 0
  #registered = false
  #closed = false
  #retry: NodeJS.Timeout | undefined

  constructor (client: Etcd3, keys: ClusterKeys, registration: BrokerRegistration,
    sessionTimeoutMs: number, logger: SessionLogger) {
    this.#client = client
    this.#keys = keys
    this.#registration = registration
    this.#sessionTimeoutMs = sessionTimeoutMs
    this.#logger = logger
  }

  get registration (): BrokerRegistration { return this.#registration }
  get leaseId (): string { return this.#leaseId }

  /** Registered, and the session was renewed within the session timeout. */
  get alive (): boolean {
    return this.#registered && Date.now() - this.#lastKeepAliveMs < this.#sessionTimeoutMs
  }

  /**
   * Registers this broker; throws DuplicateBrokerError when another live broker holds the
   * node id for longer than one session timeout.
   */
  async register (): Promise<void> {
    const deadline = Date.now() + this.#sessionTimeoutMs + RETRY_MS
    let warned = false
    for (;;) {
      const holder = await this.#tryRegister()
      if (holder === undefined) return
      if (Date.now() >= deadline) {
        throw new DuplicateBrokerError(`node id ${this.#registration.brokerId} is already ` +
          `registered in this cluster by a live broker (${holder}); refusing to start a ` +
          'second broker with the same node.id')
      }
      if (!warned) {
        this.#logger.warn(`node id ${this.#registration.brokerId} is registered by ${holder}; ` +
          `waiting up to ${this.#sessionTimeoutMs} ms for that session to expire`)
        warned = true
      }
      await new Promise(resolve => setTimeout(resolve, RETRY_MS))
    }
  }

  /** One registration attempt; undefined on success, else who holds the node id. */
  async #tryRegister (): Promise<string | undefined> {
    const ttl = Math.max(LEASE_TTL_MIN_S, Math.ceil(this.#sessionTimeoutMs / 1000))
    const lease = this.#client.lease(ttl, { autoKeepAlive: true })
    const leaseId = await lease.grant()
    const key = this.#keys.broker(this.#registration.brokerId)
    const response = await this.#client.if(key, 'Create', '==', 0)
      .then(this.#client.put(key).value(JSON.stringify(this.#registration)).lease(leaseId))
      .else(this.#client.get(key))
      .commit()
      .catch(async (error: unknown) => {
        // Not kept alive in the background for nothing (a retry grants another).
        await lease.revoke().catch(() => undefined)
        throw error
      })
    if (!response.succeeded) {
      await lease.revoke().catch(() => undefined)
      const held = response.responses[0]?.response_range?.kvs[0]?.value.toString() ?? '{}'
      const incarnation = (JSON.parse(held) as { incarnationId?: string }).incarnationId
      return `incarnation ${incarnation ?? 'unknown'}`
    }
    this.#lease = lease
    this.#leaseId = leaseId
    this.#lastKeepAliveMs = Date.now()
    this.#registered = true
    lease.on('keepaliveSucceeded', () => { this.#lastKeepAliveMs = Date.now() })
    lease.on('lost', error => this.#onLost(lease, error.message))
    return undefined
  }

  #onLost (lease: Lease, reason: string): void {
    if (this.#closed || lease !== this.#lease) return
    this.#registered = false
    this.#lease = undefined
    this.#logger.warn(`broker ${this.#registration.brokerId} lost its etcd session (${reason}); ` +
      'it is fenced and leads nothing until it registers again')
    this.#scheduleReregister()
  }

  #scheduleReregister (): void {
    if (this.#closed) return
    this.#retry = setTimeout(() => {
      this.#tryRegister().then(holder => {
        if (holder !== undefined) this.#scheduleReregister()
        else this.#logger.info(`broker ${this.#registration.brokerId} registered again`)
      }, () => this.#scheduleReregister())
    }, RETRY_MS)
  }

  /** Ends the session: the registration goes at once, not after the TTL. */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#retry !== undefined) clearTimeout(this.#retry)
    this.#registered = false
    await this.#lease?.revoke().catch(() => undefined)
  }
}
