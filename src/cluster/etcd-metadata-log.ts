/**
 * The cluster metadata log in etcd (KRaft's model on etcd instead of Raft; see
 * docs/architecture.md, "A cluster on etcd"). One key per controller operation,
 * `/<cluster>/metadata/log/<offset>`, whose value is the operation's records, each encoded
 * exactly as in the local metadata log (msgpackr, `encodeMetadataRecord`), as a JSON array of
 * base64 strings. Keys are never rewritten or deleted, so the log is the same on every broker.
 *
 * Writer (the active controller only): `append` puts the next offset in one etcd transaction
 * that compares the controller key's create revision with this controller's epoch and that the
 * offset is still free, so a deposed controller (or two that both think they lead) can never
 * write, and the log has no gap and no overwrite. It resolves once this broker has applied the
 * batch (`deliversCommits`), so the controller never replays its own records a second time.
 *
 * Follower (every broker, the controller too): `load` reads the whole log and replays it;
 * then a watch on the prefix, started from the revision of that read, wakes `#catchUp`, which
 * reads every key after the last applied offset and applies them in order through
 * `Controller.applyCommitted`, the same replay as the local log. Events carry no data, only
 * wake-ups (like the fetch purgatory), so a missed, repeated or compacted watch event costs at
 * most one more read: a watch cancelled for a compacted revision is simply restarted from the
 * latest one ("on a compacted revision, reload"). A backstop read every FOLLOW_POLL_MS covers
 * a watch stream that is down.
 *
 * Metadata lag: `appliedRevision` (the etcd revision of the last read that applied) against
 * `latestRevision` (the newest revision any etcd answer named).
 */
import type { Etcd3, Watcher } from 'etcd3'
import {
  ControllerError, type Controller, type MetadataLog,
} from '../controller/controller.js'
import {
  decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord,
} from '../metadata/records.js'
import { assert } from '../util/assert.js'
import { ClusterKeys, ETCD_CALL_TIMEOUT_MS, prefixEnd } from './etcd-connection.js'

/** How often the follower reads the log even without a watch event. */
const FOLLOW_POLL_MS = 1_000
/** Keys read per range request while catching up. */
const CATCH_UP_BATCH = 500
/** Waits for a batch to be applied here give up after this (etcd down, watch stuck). */
export const APPLY_WAIT_MS = 15_000

export interface ControllerEpoch {
  /** The controller key's create revision when this node won the election. */
  epoch: string
}

export class EtcdMetadataLog implements MetadataLog {
  readonly deliversCommits = true
  readonly #client: Etcd3
  readonly #keys: ClusterKeys
  #controller: Controller | undefined
  #epoch: ControllerEpoch | undefined
  /** The offset of the last batch applied here; -1 before any. */
  #appliedOffset = -1
  #appliedRevision = 0
  #latestRevision = 0
  #watcher: Watcher | undefined
  #poll: NodeJS.Timeout | undefined
  #catchingUp: Promise<void> | undefined
  #again = false
  #closed = false
  readonly #waiters = new Set<{ offset: number, resolve: () => void }>()
  #onError: (error: unknown) => void = () => undefined

  constructor (client: Etcd3, keys: ClusterKeys) {
    this.#client = client
    this.#keys = keys
  }

  get appliedOffset (): number { return this.#appliedOffset }
  get appliedRevision (): number { return this.#appliedRevision }
  get latestRevision (): number { return Math.max(this.#latestRevision, this.#appliedRevision) }

  /** Set while this node is the active controller; its appends are conditioned on it. */
  setEpoch (epoch: ControllerEpoch | undefined): void {
    this.#epoch = epoch
  }

  async append (records: MetadataRecord[]): Promise<void> {
    const epoch = this.#epoch
    if (epoch === undefined) {
      throw new ControllerError('NOT_CONTROLLER', 'this broker is not the active controller')
    }
    const offset = this.#appliedOffset + 1
    const value = JSON.stringify(records.map(record =>
      encodeMetadataRecord(record).toString('base64')))
    let response
    try {
      response = await this.#client
        .if(this.#keys.controller, 'Create', '==', epoch.epoch)
        .and(this.#keys.logEntry(offset), 'Create', '==', 0)
        .then(this.#client.put(this.#keys.logEntry(offset)).value(value))
        .commit()
    } catch (error) {
      throw new ControllerError('NOT_CONTROLLER', 'the metadata change could not be written ' +
        `to etcd (${(error as Error).message}); retry`)
    }
    if (!response.succeeded) {
      // Fenced: another controller was elected, or wrote this offset first.
      throw new ControllerError('NOT_CONTROLLER', 'this broker lost the controller election ' +
        'before its change was written; retry')
    }
    this.#sawRevision(Number(response.header.revision))
    this.wake()
    await this.waitApplied(offset)
  }

  /** Reads and applies the whole log (start-up), then follows it with a watch. */
  async start (controller: Controller, onError: (error: unknown) => void): Promise<void> {
    this.#controller = controller
    this.#onError = onError
    await this.#readAndApply()
    await this.#watch()
    this.#poll = setInterval(() => this.wake(), FOLLOW_POLL_MS)
    this.#poll.unref()
  }

  /** Resolves once the batch at `offset` is applied here; NOT_CONTROLLER after APPLY_WAIT_MS. */
  waitApplied (offset: number, timeoutMs = APPLY_WAIT_MS): Promise<void> {
    if (this.#appliedOffset >= offset) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const waiter = { offset, resolve: () => { clearTimeout(timer); resolve() } }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new ControllerError('REQUEST_TIMED_OUT', `metadata offset ${offset} was not ` +
          `applied on this broker within ${timeoutMs} ms (is etcd reachable?)`))
      }, timeoutMs)
      this.#waiters.add(waiter)
    })
  }

  /** Reads everything after the applied offset now (a wake-up; coalesced while one runs). */
  wake (): Promise<void> {
    if (this.#catchingUp !== undefined) {
      this.#again = true
      return this.#catchingUp
    }
    this.#catchingUp = (async () => {
      try {
        do {
          this.#again = false
          await this.#readAndApply()
        } while (this.#again && !this.#closed)
      } catch (error) {
        if (!this.#closed) this.#onError(error)
      } finally {
        this.#catchingUp = undefined
      }
    })()
    return this.#catchingUp
  }

  /** Reads every key after the applied offset, in order, and applies each batch. */
  async #readAndApply (): Promise<void> {
    const controller = this.#controller
    assert(controller !== undefined, 'start() sets the controller before any read')
    for (;;) {
      const response = await this.#client.getAll()
        .inRange({ start: this.#keys.logEntry(this.#appliedOffset + 1),
          end: prefixEnd(this.#keys.log) })
        .sort('Key', 'Ascend').limit(CATCH_UP_BATCH)
        .options({ deadline: Date.now() + ETCD_CALL_TIMEOUT_MS })
        .exec()
      const revision = Number(response.header.revision)
      this.#sawRevision(revision)
      for (const kv of response.kvs) {
        const offset = Number(kv.key.toString().slice(this.#keys.log.length))
        // The writer only ever puts appliedOffset + 1 (conditioned on it being free).
        assert(offset === this.#appliedOffset + 1,
          `metadata log offsets are dense (${offset} after ${this.#appliedOffset})`)
        await controller.applyCommitted(decodeBatch(kv.value, offset))
        this.#appliedOffset = offset
        this.#releaseWaiters()
      }
      if (!response.more) {
        this.#appliedRevision = Math.max(this.#appliedRevision, revision)
        return
      }
    }
  }

  async #watch (): Promise<void> {
    if (this.#closed) return
    const watcher = await this.#client.watch().prefix(this.#keys.log)
      .startRevision(String(this.#appliedRevision + 1)).create()
    this.#watcher = watcher
    watcher.on('put', kv => {
      this.#sawRevision(Number(kv.mod_revision))
      void this.wake()
    })
    watcher.on('connected', () => void this.wake())
    watcher.on('error', () => {
      // Cancelled, e.g. for a compacted start revision: read what is there, watch anew.
      if (this.#watcher !== watcher || this.#closed) return
      this.#watcher = undefined
      void this.wake().then(() => this.#watch()).catch(error => this.#onError(error))
    })
  }

  #sawRevision (revision: number): void {
    if (revision > this.#latestRevision) this.#latestRevision = revision
  }

  #releaseWaiters (): void {
    for (const waiter of this.#waiters) {
      if (waiter.offset <= this.#appliedOffset) {
        this.#waiters.delete(waiter)
        waiter.resolve()
      }
    }
  }

  async close (): Promise<void> {
    this.#closed = true
    if (this.#poll !== undefined) clearInterval(this.#poll)
    await this.#watcher?.cancel().catch(() => undefined)
    await this.#catchingUp
  }
}

function decodeBatch (value: Buffer, offset: number): MetadataRecord[] {
  let items: unknown
  try {
    items = JSON.parse(value.toString())
  } catch {
    items = undefined
  }
  if (!Array.isArray(items) || !items.every(item => typeof item === 'string')) {
    throw new Error(`the metadata log in etcd has an unreadable batch at offset ${offset}`)
  }
  return items.map(item => decodeMetadataRecord(Buffer.from(item, 'base64')))
}
