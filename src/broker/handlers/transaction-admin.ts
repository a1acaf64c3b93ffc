/**
 * The transaction admin reads (KIP-664): DescribeTransactions and ListTransactions, answered
 * from the transaction coordinator's state (src/txn/txn-coordinator.ts), as Kafka's
 * TransactionCoordinator.handleDescribeTransactions and
 * TransactionStateManager.listTransactionStates do. State names are Kafka's TransactionState
 * names (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort).
 *
 * Before any transactional producer started the coordinator there is no transaction: List
 * answers none and Describe answers TRANSACTIONAL_ID_NOT_FOUND for every id.
 */
import { RE2JS } from 're2js'
import {
  DescribeTransactions, type DescribedTransaction, type DescribeTransactionsRequest,
  type DescribeTransactionsResponse,
} from '../../protocol/apis/describe-transactions.js'
import {
  ListTransactions, type ListTransactionsRequest, type ListTransactionsResponse,
} from '../../protocol/apis/list-transactions.js'
import { ERROR } from '../../protocol/errors.js'
import type { TransactionCoordinator } from '../../txn/txn-coordinator.js'
import type { TxnStateName } from '../../txn/txn-state.js'
import type { HandlerEntry } from '../broker.js'

/** Kafka's TransactionState names a ListTransactions state filter may name. */
const STATE_NAMES: ReadonlySet<string> = new Set<TxnStateName>(['Empty', 'Ongoing',
  'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead'])
// Kafka also knows PrepareEpochFence; this coordinator never enters it (it fences by bumping
// the epoch and aborting in one step), so a filter naming it matches nothing but is known.
const KNOWN_ONLY = new Set(['PrepareEpochFence'])

export const describeTransactionsHandler:
HandlerEntry<DescribeTransactionsRequest, DescribeTransactionsResponse> = {
  api: DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  async handle (broker, request) {
    const txn = broker.transactions
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map(id => describeOne(txn, id)),
    }
  },
}

function describeOne (txn: TransactionCoordinator | undefined, transactionalId: string):
DescribedTransaction {
  const failed = (errorCode: number): DescribedTransaction => ({ errorCode, transactionalId,
    transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1,
    producerId: -1, producerEpoch: -1, topics: [] })
  if (transactionalId === '') return failed(ERROR.INVALID_REQUEST)
  if (txn === undefined) return failed(ERROR.TRANSACTIONAL_ID_NOT_FOUND)
  const error = txn.coordinatorError(transactionalId)
  if (error !== ERROR.NONE) return failed(error)
  const metadata = txn.describe(transactionalId)?.metadata
  if (metadata === null || metadata === undefined || metadata.state === 'Dead') {
    return failed(ERROR.TRANSACTIONAL_ID_NOT_FOUND)
  }
  const byTopic = new Map<string, number[]>()
  for (const tp of metadata.partitions) {
    const partitions = byTopic.get(tp.topic) ?? []
    partitions.push(tp.partition)
    byTopic.set(tp.topic, partitions)
  }
  return {
    errorCode: ERROR.NONE, transactionalId, transactionState: metadata.state,
    transactionTimeoutMs: metadata.timeoutMs, transactionStartTimeMs: metadata.txnStartMs,
    producerId: metadata.producerId, producerEpoch: metadata.producerEpoch,
    topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
  }
}

export const listTransactionsHandler:
HandlerEntry<ListTransactionsRequest, ListTransactionsResponse> = {
  api: ListTransactions,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request) {
    const answer = (errorCode: number, unknownStateFilters: string[] = []):
    ListTransactionsResponse => ({ throttleTimeMs: 0, errorCode, unknownStateFilters,
      transactionStates: [] })
    const matchesId = idMatcher(request.transactionalIdPattern)
    if (matchesId === undefined) return answer(ERROR.INVALID_REGULAR_EXPRESSION)
    const unknownStateFilters = request.stateFilters.filter(name =>
      !STATE_NAMES.has(name) && !KNOWN_ONLY.has(name))
    const response = answer(ERROR.NONE, unknownStateFilters)
    const txn = broker.transactions
    if (txn === undefined) return response
    const states = new Set(request.stateFilters)
    const producerIds = new Set(request.producerIdFilters)
    const nowMs = broker.clock.nowMs()
    for (const machine of txn.transactions()) {
      const metadata = machine.metadata
      if (metadata === null || metadata.state === 'Dead') continue
      if (producerIds.size > 0 && !producerIds.has(metadata.producerId)) continue
      if (states.size > 0 && !states.has(metadata.state)) continue
      // KIP-994: only transactions running longer than the filter (Kafka compares the same way).
      if (request.durationFilter >= 0 &&
        nowMs - metadata.txnStartMs <= request.durationFilter) continue
      if (!matchesId(machine.transactionalId)) continue
      response.transactionStates.push({ transactionalId: machine.transactionalId,
        producerId: metadata.producerId, transactionState: metadata.state })
    }
    return response
  },
}

/**
 * KIP-1152: a null or empty pattern matches every id; otherwise the whole id must match (Java's
 * Matcher.matches). The pattern comes from a client, so it runs on RE2 (re2js, linear time in
 * the id's length, as Kafka runs client patterns on RE2/J for KIP-848 subscriptions): a
 * backtracking engine would let one crafted pattern hold the event loop. Undefined when it does
 * not compile.
 */
export function idMatcher (pattern: string | null): ((id: string) => boolean) | undefined {
  if (pattern === null || pattern === '') return () => true
  try {
    const regex = RE2JS.compile(pattern)
    return id => regex.matches(id)
  } catch {
    return undefined
  }
}
