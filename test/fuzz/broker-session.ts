/**
 * One life of the fuzzed broker process: the process itself (on ephemeral ports, over the
 * run's data directory), the fuzzer's raw lanes to it, the well-behaved client, and a watch on
 * its output for Node process warnings. The fuzzer restarts the broker now and then on the
 * same data directory, so each restart is a new session.
 */
import { startBroker, type BrokerProcess } from '../support/broker-process.js'
import { WellBehavedClient } from './broker-health.js'
import { FuzzLane } from './fuzz-lane.js'

const LANES = 4
const BROKER_STOP_TIMEOUT_MS = 10_000

/**
 * Node's own process warnings in the broker's output, each a bug caught in the act:
 * "Closing file descriptor N on garbage collection" (a file handle leaked by the code that
 * opened it), TimeoutOverflowWarning (a timer past 2^31-1 ms, which fires at once),
 * MaxListenersExceededWarning (listeners piling up). Deprecation warnings are left out: they
 * come from dependencies and say nothing about the input.
 */
const WARNING_PATTERN = /\(node:\d+\) (?!\[DEP)(\w*Warning: [^\n]*)/

export class ProcessWarnings {
  #carry = ''
  #found: string | undefined

  constructor (broker: BrokerProcess) {
    const scan = (chunk: Buffer): void => {
      const text = this.#carry + chunk.toString()
      const match = WARNING_PATTERN.exec(text)
      if (match !== null) this.#found ??= match[1]
      // Keep a line's worth so a warning split across chunks is still seen.
      this.#carry = text.slice(-200)
    }
    broker.child.stdout?.on('data', scan)
    broker.child.stderr?.on('data', scan)
  }

  take (): string | undefined {
    const found = this.#found
    this.#found = undefined
    return found
  }
}

export class BrokerSession {
  readonly broker: BrokerProcess
  readonly client: WellBehavedClient
  readonly lanes: FuzzLane[]
  readonly warnings: ProcessWarnings

  private constructor (broker: BrokerProcess, baseTimestamp: number) {
    this.broker = broker
    this.client = new WellBehavedClient(broker.bootstrap, baseTimestamp)
    this.lanes = Array.from({ length: LANES }, () => new FuzzLane('127.0.0.1', broker.kafkaPort))
    this.warnings = new ProcessWarnings(broker)
  }

  /** A broker logging warnings only, with few offsets partitions and no rebalance delay. */
  static async open (dataDir: string, baseTimestamp: number,
    verbose: boolean): Promise<BrokerSession> {
    const broker = await startBroker({
      dataDir,
      outputTailBytes: 64 * 1024,
      env: {
        TRIBUTARY_LOG_LEVEL: 'warn',
        TRIBUTARY_OFFSETS_TOPIC_NUM_PARTITIONS: '4',
        TRIBUTARY_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      },
    })
    if (verbose) {
      broker.child.stdout?.on('data', chunk => process.stdout.write(chunk))
      broker.child.stderr?.on('data', chunk => process.stdout.write(chunk))
    }
    return new BrokerSession(broker, baseTimestamp)
  }

  get connectionsOpened (): number {
    return this.lanes.reduce((sum, lane) => sum + lane.opened, 0)
  }

  /** Closes the lanes and the client; then SIGTERM, SIGKILL if it does not exit in time. */
  async stop (): Promise<number | null | 'killed'> {
    for (const lane of this.lanes) lane.close()
    await this.client.close()
    const stopped = await Promise.race([this.broker.stop(), delay(BROKER_STOP_TIMEOUT_MS)])
    if (stopped !== 'timeout') return stopped
    await this.broker.kill()
    return 'killed'
  }
}

function delay (ms: number): Promise<'timeout'> {
  return new Promise(resolve => setTimeout(() => resolve('timeout'), ms).unref())
}
