/**
 * The bank workload (Jepsen's bank, issue #17), shared by the one-broker crash test
 * (test/crash/bank.test.ts) and the three-broker cluster test (test/cluster/bank-cluster.test.ts).
 *
 * `accounts` accounts are keys spread over `partitions` partitions (account a lives on
 * partition a % partitions). One committed transaction deposits `initial` into each. Then
 * kafkajs transactional producers move random amounts between two accounts on different
 * partitions, each transfer one transaction of two records (the debit and the credit, both
 * tagged with the transfer's id, sent one after the other: see `transfers`). About
 * `abortRate` of the transfers are tagged `abort-` and deliberately aborted. A producer whose
 * request fails (a broker is down) starts over with a new instance of the same
 * transactional.id, whose InitProducerId aborts what the old one left.
 *
 * BankReader is a read_committed reader (read-committed.ts: Fetch with isolation_level=1,
 * aborted batches dropped as Kafka's Java consumer drops them) that folds every record into
 * balances and checks after every fetch:
 *   - no record of a transfer tagged `abort-` is ever visible;
 *   - no transfer has more than its two records (a retried produce never lands twice);
 *   - the total of all balances is accounts * initial once the deposits are seen, with each
 *     half-visible transfer set aside. read_committed is not a snapshot across partitions
 *     (KIP-98: markers are written partition by partition, and this reader fetches the
 *     partitions in turn), so one half of a committed transfer can be visible before the
 *     other; such halves are counted (`halfSeen`) and must all be completed by the end.
 */
import kafkajs, { type Producer } from 'kafkajs'
import { KafkaClient } from '../../src/client/client.js'
import { fetchCommitted, type CommittedRecord } from './read-committed.js'

const { Kafka, logLevel } = kafkajs

export interface BankConfig {
  topic: string
  accounts: number
  partitions: number
  initial: number
  abortRate: number
  /** The brokers to bootstrap from now (the live ones, in a cluster whose brokers are killed). */
  bootstrap: () => string[]
}

export interface TransferCounts { commits: number, aborts: number, failures: string[] }

interface Entry { id: string, account: number, delta: number }

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export function bankKafka (config: BankConfig, clientId: string): InstanceType<typeof Kafka> {
  return new Kafka({ clientId, brokers: config.bootstrap(), logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } })
}

/** A transaction's two records, each on its account's partition. */
function transferMessages (config: BankConfig, entries: Entry[]): { topic: string,
  messages: { key: string, value: string, partition: number }[] } {
  return { topic: config.topic, messages: entries.map(entry => ({
    key: `account-${entry.account}`, value: JSON.stringify(entry),
    partition: entry.account % config.partitions })) }
}

export class BankReader {
  readonly balances: number[]
  readonly seen = new Set<string>()
  /** Transfer id → how many of its two records are visible (1 while half-seen). */
  readonly halves = new Map<string, number>()
  /** Transfer id → the delta of its visible records (what a half-seen one adds). */
  readonly visibleDelta = new Map<string, number>()
  readonly violations: string[] = []
  halfSeen = 0
  checks = 0
  lastRecordAt = Date.now()
  readonly #config: BankConfig
  readonly #positions: number[]
  #stopped = false
  #loop: Promise<void> | undefined

  constructor (config: BankConfig) {
    this.#config = config
    this.balances = new Array<number>(config.accounts).fill(0)
    this.#positions = new Array<number>(config.partitions).fill(0)
  }

  start (): void {
    this.#loop = this.#run()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    await this.#loop
  }

  #client (): KafkaClient {
    return new KafkaClient({ bootstrap: this.#config.bootstrap(), clientId: 'bank-reader',
      requestTimeoutMs: 5_000 })
  }

  async #run (): Promise<void> {
    let client = this.#client()
    while (!this.#stopped) {
      for (let partition = 0; partition < this.#config.partitions && !this.#stopped;
        partition++) {
        let fetched: Awaited<ReturnType<typeof fetchCommitted>>
        try {
          fetched = await fetchCommitted(client, this.#config.topic, partition,
            this.#positions[partition] ?? 0)
        } catch {
          // A broker is down or restarting: a new client on the live brokers.
          await client.close().catch(() => undefined)
          await sleep(200)
          client = this.#client()
          continue
        }
        // Only the fetch is retried: a record the reader cannot fold is a violation, not a
        // reason to skip the rest of the fetch (the position has moved past it).
        this.#positions[partition] = fetched.next
        for (const record of fetched.records) {
          try {
            this.#fold(partition, record)
          } catch (error) {
            this.violations.push(`${partition}@${record.offset}: unreadable record ` +
              `${JSON.stringify(record.value)} (${String(error)})`)
          }
        }
        this.#check()
      }
    }
    await client.close().catch(() => undefined)
  }

  #fold (partition: number, record: CommittedRecord): void {
    const at = `${partition}@${record.offset}`
    if (this.seen.has(at)) return
    this.seen.add(at)
    this.lastRecordAt = Date.now()
    const entry = JSON.parse(record.value) as Entry
    if (entry.id.startsWith('abort-')) {
      this.violations.push(`aborted transfer ${entry.id} visible at ${at}`)
    }
    const count = (this.halves.get(entry.id) ?? 0) + 1
    if (entry.id !== 'init') {
      if (count > 2) this.violations.push(`transfer ${entry.id} has a third record at ${at}`)
      if (count === 1) this.halfSeen++
    }
    this.halves.set(entry.id, count)
    this.visibleDelta.set(entry.id, (this.visibleDelta.get(entry.id) ?? 0) + entry.delta)
    this.balances[entry.account] = (this.balances[entry.account] ?? 0) + entry.delta
  }

  /** The total, with the debit or credit of each half-visible transfer set aside. */
  #check (): void {
    this.checks++
    let total = this.total()
    for (const [id, count] of this.halves) {
      if (id === 'init' || count !== 1) continue
      total -= this.visibleDelta.get(id) ?? 0
    }
    // Before the deposits are all seen the total is below the bank's; above it never.
    const expected = this.#config.accounts * this.#config.initial
    const deposits = this.halves.get('init') ?? 0
    if (deposits === this.#config.accounts && total !== expected) {
      this.violations.push(`total ${total} != ${expected} after ${this.seen.size} records`)
    }
  }

  total (): number {
    return this.balances.reduce((sum, balance) => sum + balance, 0)
  }

  halfOpen (): string[] {
    return [...this.halves].filter(([id, count]) => id !== 'init' && count === 1)
      .map(([id]) => id)
  }

  /** Acknowledged commits not (fully) visible yet. */
  missing (committed: Set<string>): string[] {
    return [...committed].filter(id => this.halves.get(id) !== 2)
  }

  /** Waits until every acknowledged commit is visible, no half is left and no record came for
   * `quietMs`, or `timeoutMs` passed. */
  async settle (committed: Set<string>, quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && (this.missing(committed).length > 0 ||
      this.halfOpen().length > 0 || Date.now() - this.lastRecordAt < quietMs)) {
      await sleep(100)
    }
  }
}

/** The opening deposits: one committed transaction crediting `initial` to every account. */
export async function deposit (config: BankConfig): Promise<void> {
  const depositor = bankKafka(config, 'bank-init').producer({ transactionalId: 'bank-init',
    idempotent: true, maxInFlightRequests: 1 })
  await depositor.connect()
  try {
    const txn = await depositor.transaction()
    await txn.send(transferMessages(config, Array.from({ length: config.accounts },
      (_, account) => ({ id: 'init', account, delta: config.initial }))))
    await txn.commit()
  } finally {
    await depositor.disconnect()
  }
}

/**
 * One producer's loop of transfers until `until.at` (read before each transfer, so a test may
 * move it); returns what happened to them.
 */
export async function transfers (config: BankConfig, index: number, random: () => number,
  until: { at: number }, committed: Set<string>, placements?: Map<string, string>):
  Promise<TransferCounts> {
  const counts: TransferCounts = { commits: 0, aborts: 0, failures: [] }
  const { accounts, partitions } = config
  let producer: Producer | undefined
  for (let n = 0; Date.now() < until.at; n++) {
    const from = Math.floor(random() * accounts)
    const to = (from + 1 + Math.floor(random() * (partitions - 1))) % accounts
    const amount = 1 + Math.floor(random() * 20)
    const abort = random() < config.abortRate
    const id = `${abort ? 'abort-' : ''}p${index}-${n}`
    try {
      if (producer === undefined) {
        const fresh = bankKafka(config, `bank-producer-${index}`).producer({
          transactionalId: `bank-${index}`, idempotent: true, maxInFlightRequests: 1,
          transactionTimeout: 5_000 })
        producer = fresh
        await fresh.connect()
      }
      const txn = await producer.transaction()
      // One send per partition, in turn: kafkajs 2.2.4 (producer/sendMessages.js) loses or
      // duplicates records of a send that spans partitions led by different brokers when one
      // broker's request fails and the send is retried. Its retry resends only to brokers with
      // no response yet (responsePerBroker), so a partition whose leader moved to a broker that
      // already answered is never sent, and send() resolves without it. A broker whose request
      // is still in flight gets the batch again with the next sequence (the sequence is
      // advanced before the request), which is a new batch to the broker. Both showed up
      // here as half-visible or doubled transfers in a three-broker cluster (seed 577563967 of
      // bank-cluster.test.ts); kafkajs issue tulios/kafkajs#1303 and PR #1798 are about the
      // shared response map.
      const placed: string[] = []
      for (const entry of [{ id, account: from, delta: -amount },
        { id, account: to, delta: amount }]) {
        const acked = await txn.send(transferMessages(config, [entry]))
        placed.push(...acked.map(meta =>
          `${meta.topicName}-${meta.partition}@${meta.baseOffset ?? '?'}`))
      }
      // Where each record was acknowledged, for a failure report.
      placements?.set(id, `${placed.join(' ')} at ${Date.now()}`)
      if (abort) {
        await txn.abort()
        counts.aborts++
      } else {
        await txn.commit()
        committed.add(id)
        counts.commits++
      }
    } catch (error) {
      // The outcome of a transfer whose commit failed is unknown (either is allowed, atomic);
      // a new instance of the transactional id fences the old one and aborts what it left.
      counts.failures.push(`${id} at ${Date.now()}: ${String(error).slice(0, 120)}`)
      await producer?.disconnect().catch(() => undefined)
      producer = undefined
      await sleep(200)
    }
  }
  await producer?.disconnect().catch(() => undefined)
  return counts
}
