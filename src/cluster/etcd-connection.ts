/**
 * The etcd client of a cluster broker and the key layout of one cluster. Every key lives under
 * `/<cluster name>/`, so two clusters can share one etcd:
 *
 * - `cluster-id`: the Kafka cluster id, written once by the first broker;
 * - `brokers/<node id>`: a broker's registration (JSON), bound to its session lease;
 * - `controller`: the active controller's node id (JSON), bound to its session lease; the key's
 *   create revision is the controller epoch;
 * - `metadata/log/<offset>`: one batch of metadata records per controller operation;
 * - `forward/requests/<node id>/<n>` and `forward/responses/<node id>/<n>`: admin operations
 *   forwarded to the active controller, and its answers (see forwarding.ts).
 *
 * Fault handling: every unary call has a deadline (ETCD_CALL_TIMEOUT_MS), one retry, and no
 * circuit breaker (its 5 s open window would only delay recovery after an etcd restart); watch
 * streams reconnect with a backoff capped at 1 s.
 */
import {
  ConstantBackoff, ExponentialBackoff, handleWhen, noop, retry, type IBackoff,
} from 'cockatiel'
import { Etcd3, isRecoverableError } from 'etcd3'

/** Deadline of one etcd call. */
export const ETCD_CALL_TIMEOUT_MS = 3_000

export function connectEtcd (endpoints: readonly string[]): Etcd3 {
  return new Etcd3({
    hosts: endpoints.map(endpoint => endpoint.includes('://') ? endpoint : `http://${endpoint}`),
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    defaultCallOptions: context =>
      context.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS },
    faultHandling: {
      host: () => noop,
      global: retry(handleWhen(isRecoverableError), {
        maxAttempts: 1, backoff: new ConstantBackoff(100),
      }),
      // etcd3's own default is this factory too (it reads `.duration`, then steps `.next()`);
      // its typing asks for a stepped backoff.
      watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }) as
        unknown as IBackoff<unknown>,
    },
  })
}

/** Parses `HOST:PORT[,HOST:PORT...]` (the --etcd flag, tributary.etcd.endpoints). */
export function parseEtcdEndpoints (value: string): string[] {
  const endpoints = value.split(',').map(item => item.trim()).filter(item => item !== '')
  for (const endpoint of endpoints) {
    const port = Number(/:(\d{1,5})$/.exec(endpoint)?.[1])
    if (!/^(https?:\/\/)?[^\s:/]+:\d{1,5}$/.test(endpoint) || port < 1 || port > 65535) {
      throw new Error(`invalid tributary.etcd.endpoints (--etcd) entry '${endpoint}': ` +
        'expected HOST:PORT[,HOST:PORT...]')
    }
  }
  if (endpoints.length === 0) {
    throw new Error('tributary.etcd.endpoints (--etcd) is empty: expected HOST:PORT[,HOST:PORT...]')
  }
  return endpoints
}

/** Offsets in keys are zero-padded so that key order is offset order. */
export function offsetKey (offset: number): string {
  return String(offset).padStart(20, '0')
}

export class ClusterKeys {
  readonly root: string

  constructor (clusterName: string) {
    this.root = `/${clusterName}/`
  }

  get clusterId (): string { return `${this.root}cluster-id` }
  get brokers (): string { return `${this.root}brokers/` }
  broker (nodeId: number): string { return `${this.brokers}${nodeId}` }
  get controller (): string { return `${this.root}controller` }
  get log (): string { return `${this.root}metadata/log/` }
  logEntry (offset: number): string { return `${this.log}${offsetKey(offset)}` }
  get requests (): string { return `${this.root}forward/requests/` }
  request (nodeId: number, id: number): string { return `${this.requests}${nodeId}/${id}` }
  /** The prefix of every answer to `nodeId`'s forwarded requests. */
  responses (nodeId: number): string { return `${this.root}forward/responses/${nodeId}/` }
  response (nodeId: number, id: number): string { return `${this.responses(nodeId)}${id}` }
}

/** The first key after every key with this prefix (etcd's range end for a prefix). */
export function prefixEnd (prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}
