/**
 * Forwarding admin operations to the active controller (Kafka's KIP-590 forwarding), through
 * etcd rather than a second network protocol: a broker that is not the controller puts the
 * operation under `/<cluster>/forward/requests/<its node id>/<n>` (bound to its session lease,
 * so the request vanishes with the broker); the active controller watches that prefix, runs
 * the operation through the same Controller methods as its own requests, and answers under
 * `forward/responses/<node id>/<n>` in a transaction conditioned on its controller epoch (a
 * deposed controller cannot answer) that also deletes the request. The answer carries the
 * metadata offset that covers the change; the forwarding broker resolves only once its own
 * image has applied that offset, so a client that created a topic on any broker then sees it
 * in that broker's Metadata.
 *
 * Why etcd and not the Kafka port: every broker already holds an etcd session, a request
 * outlives a controller failover (the next controller answers it), and nothing new is exposed
 * on the client listeners. The cost is one etcd round trip more per admin request.
 *
 * Bounds: at most FORWARD_INFLIGHT_MAX operations in flight per broker (more answer
 * REQUEST_TIMED_OUT, retriable), each waits at most FORWARD_TIMEOUT_MS.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3'
import {
  ControllerError, type Controller, type ControllerOperation, type ControllerResult,
} from '../controller/controller.js'
import { ClusterKeys } from './etcd-connection.js'
import type { EtcdMetadataLog } from './etcd-metadata-log.js'

export const FORWARD_INFLIGHT_MAX = 64
export const FORWARD_TIMEOUT_MS = 15_000
/** Pending answers are also polled this often, in case a watch event was missed. */
const ANSWER_POLL_MS = 500
/** Answered request keys remembered by the controller (request ids are never reused). */
const ANSWERED_REMEMBERED = 1_000

interface ForwardedAnswer {
  result?: ControllerResult
  error?: { errorName: string, message: string }
  offset: number
}

interface Pending {
  resolve: (answer: ForwardedAnswer) => void
}

/** The forwarding broker's side. */
export class ForwardingClient {
  readonly #client: Etcd3
  readonly #keys: ClusterKeys
  readonly #nodeId: number
  readonly #log: EtcdMetadataLog
  readonly #leaseId: () => string
  readonly #pending = new Map<number, Pending>()
  /**
   * Request ids start from the clock (in microseconds, below 2^53 for centuries), so a
   * restarted broker never reuses an id the controller remembers as answered.
   */
  #next = Date.now() * 1000
  #watcher: Watcher | undefined
  #poll: NodeJS.Timeout | undefined

  constructor (client: Etcd3, keys: ClusterKeys, nodeId: number, log: EtcdMetadataLog,
    leaseId: () => string) {
    this.#client = client
    this.#keys = keys
    this.#nodeId = nodeId
    this.#log = log
    this.#leaseId = leaseId
  }

  async start (): Promise<void> {
    this.#watcher = await this.#client.watch().prefix(this.#keys.responses(this.#nodeId))
      .create()
    this.#watcher.on('put', kv => this.#onAnswer(kv))
    this.#poll = setInterval(() => void this.#pollAnswers(), ANSWER_POLL_MS)
    this.#poll.unref()
  }

  async forward (operation: ControllerOperation): Promise<ControllerResult> {
    if (this.#pending.size >= FORWARD_INFLIGHT_MAX) {
      throw new ControllerError('REQUEST_TIMED_OUT', `${FORWARD_INFLIGHT_MAX} admin requests ` +
        'are already waiting for the controller; retry')
    }
    const id = ++this.#next
    const answered = new Promise<ForwardedAnswer>(resolve => {
      this.#pending.set(id, { resolve })
    })
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ControllerError('REQUEST_TIMED_OUT',
        `the controller did not answer within ${FORWARD_TIMEOUT_MS} ms; retry`)),
      FORWARD_TIMEOUT_MS)
    })
    const deadline = Date.now() + FORWARD_TIMEOUT_MS
    try {
      await this.#client.put(this.#keys.request(this.#nodeId, id))
        .value(JSON.stringify(operation)).lease(this.#leaseId()).exec()
        .catch((error: Error) => {
          throw new ControllerError('NOT_CONTROLLER', 'the admin request could not be ' +
            `forwarded to the controller through etcd (${error.message}); retry`)
        })
      const answer = await Promise.race([answered, timedOut])
      // A refusal too is answered against the controller's image (TOPIC_ALREADY_EXISTS:
      // the topic is in this broker's image once it resolves).
      await this.#log.waitApplied(answer.offset, Math.max(1, deadline - Date.now()))
      if (answer.error !== undefined) {
        throw new ControllerError(answer.error.errorName, answer.error.message)
      }
      return answer.result ?? {}
    } finally {
      clearTimeout(timer)
      this.#pending.delete(id)
      void this.#client.delete().key(this.#keys.request(this.#nodeId, id)).exec()
        .catch(() => undefined)
      void this.#client.delete().key(this.#keys.response(this.#nodeId, id)).exec()
        .catch(() => undefined)
    }
  }

  #onAnswer (kv: IKeyValue): void {
    const id = Number(kv.key.toString().split('/').pop())
    const pending = this.#pending.get(id)
    if (pending === undefined) return
    pending.resolve(parseAnswer(kv.value))
  }

  async #pollAnswers (): Promise<void> {
    for (const id of this.#pending.keys()) {
      const value = await this.#client.get(this.#keys.response(this.#nodeId, id)).buffer()
        .catch(() => null)
      if (value !== null) this.#pending.get(id)?.resolve(parseAnswer(value))
    }
  }

  async close (): Promise<void> {
    if (this.#poll !== undefined) clearInterval(this.#poll)
    await this.#watcher?.cancel().catch(() => undefined)
  }
}

function parseAnswer (value: Buffer): ForwardedAnswer {
  try {
    const answer = JSON.parse(value.toString()) as ForwardedAnswer
    if (typeof answer.offset === 'number') return answer
  } catch {}
  return { offset: -1, error: { errorName: 'UNKNOWN_SERVER_ERROR',
    message: 'the controller sent an unreadable answer' } }
}

const KINDS = new Set(['createTopic', 'deleteTopic', 'createPartitions', 'alterConfigs',
  'allocateProducerIdBlock', 'alterPartition', 'controlledShutdown', 'electLeaders',
  'alterPartitionReassignments'])

/** Checks the shape of a forwarded operation read from etcd (it is input like any other). */
function parseOperation (value: Buffer): ControllerOperation | undefined {
  try {
    const operation = JSON.parse(value.toString()) as ControllerOperation
    if (typeof operation === 'object' && operation !== null && KINDS.has(operation.kind) &&
      replicationShapeValid(operation)) {
      return operation
    }
  } catch {}
  return undefined
}

const isPartitionRef = (ref: unknown): boolean => typeof ref === 'object' && ref !== null &&
  typeof (ref as { topic?: unknown }).topic === 'string' &&
  Number.isSafeInteger((ref as { partition?: unknown }).partition)

/** The fields of the replication operations (controlled shutdown, elections, reassignment). */
function replicationShapeValid (operation: ControllerOperation): boolean {
  switch (operation.kind) {
    case 'controlledShutdown': return Number.isSafeInteger(operation.brokerId)
    case 'electLeaders':
      return ['preferred', 'unclean'].includes(operation.electionType) &&
        (operation.partitions === null ||
          (Array.isArray(operation.partitions) && operation.partitions.every(isPartitionRef)))
    case 'alterPartitionReassignments':
      return typeof operation.allowReplicationFactorChange === 'boolean' &&
        Array.isArray(operation.reassignments) && operation.reassignments.every(r =>
        isPartitionRef(r) && (r.replicas === null || (Array.isArray(r.replicas) &&
          r.replicas.every(id => Number.isSafeInteger(id)))))
    default: return true
  }
}

/** The active controller's side: answers forwarded operations while it holds `epoch`. */
export class ForwardingServer {
  readonly #client: Etcd3
  readonly #keys: ClusterKeys
  readonly #controller: Controller
  readonly #log: EtcdMetadataLog
  readonly #epoch: string
  /** Requests being answered (bounded by the requests in etcd: each broker caps its own). */
  readonly #inProgress = new Set<string>()
  /** Recently answered requests, so a sweep that read one before its deletion skips it. */
  readonly #answered = new Set<string>()
  /**
   * Answers computed but not written (etcd failed the write): the next sweep sends the same
   * answer instead of running the operation again. Bounded like #answered.
   */
  readonly #unsent = new Map<string, ForwardedAnswer>()
  #watcher: Watcher | undefined
  #stopped = false

  constructor (client: Etcd3, keys: ClusterKeys, controller: Controller, log: EtcdMetadataLog,
    epoch: string) {
    this.#client = client
    this.#keys = keys
    this.#controller = controller
    this.#log = log
    this.#epoch = epoch
  }

  async start (): Promise<void> {
    this.#watcher = await this.#client.watch().prefix(this.#keys.requests).create()
    this.#watcher.on('put', kv => void this.#answer(kv))
    await this.sweep()
  }

  /** Answers every waiting request (at start, and as a backstop for missed watch events). */
  async sweep (): Promise<void> {
    const waiting = await this.#client.getAll().prefix(this.#keys.requests).exec()
    for (const kv of waiting.kvs) void this.#answer(kv)
  }

  async #answer (kv: IKeyValue): Promise<void> {
    const key = kv.key.toString()
    if (this.#stopped || this.#inProgress.has(key) || this.#answered.has(key)) return
    const [nodeId, id] = key.slice(this.#keys.requests.length).split('/').map(Number)
    if (!Number.isSafeInteger(nodeId) || !Number.isSafeInteger(id)) return
    this.#inProgress.add(key)
    try {
      const answer = this.#unsent.get(key) ?? await this.#run(kv.value)
      this.#unsent.set(key, answer)
      if (this.#unsent.size > ANSWERED_REMEMBERED) {
        this.#unsent.delete(this.#unsent.keys().next().value as string)
      }
      const responseKey = this.#keys.response(nodeId as number, id as number)
      // Only while still the controller, and only if the request is still there (its broker
      // did not give up or die); the answer lives with the request's lease (a request is put
      // once, so the lease its watch event or sweep read is the one it still has).
      await this.#client.if(this.#keys.controller, 'Create', '==', this.#epoch)
        .and(key, 'Create', '>', 0)
        .then(this.#client.put(responseKey).value(JSON.stringify(answer)).lease(kv.lease),
          this.#client.delete().key(key))
        .commit()
      this.#unsent.delete(key)
      this.#answered.add(key)
      if (this.#answered.size > ANSWERED_REMEMBERED) {
        this.#answered.delete(this.#answered.values().next().value as string)
      }
    } catch {
      // etcd unreachable: the request stays, and the next sweep (or controller) answers it.
    } finally {
      this.#inProgress.delete(key)
    }
  }

  /** Runs a forwarded operation; its answer, a refusal included. */
  async #run (value: Buffer): Promise<ForwardedAnswer> {
    const operation = parseOperation(value)
    if (operation === undefined) {
      return { offset: -1, error: { errorName: 'INVALID_REQUEST',
        message: 'the forwarded operation is not one the controller knows' } }
    }
    try {
      const result = await this.#controller.execute(operation)
      return { result, offset: this.#log.appliedOffset }
    } catch (error) {
      const known = error instanceof ControllerError
      return { offset: this.#log.appliedOffset, error: {
        errorName: known ? error.errorName : 'UNKNOWN_SERVER_ERROR',
        message: (error as Error).message,
      } }
    }
  }

  async stop (): Promise<void> {
    this.#stopped = true
    await this.#watcher?.cancel().catch(() => undefined)
  }
}
