/**
 * Connection counts shared by every listener of the broker, as Kafka's ConnectionQuotas:
 * `max.connections` in all and `max.connections.per.ip` from one address. `acquire` says why a
 * new connection is refused, or takes a place that `release` gives back when it closes. The
 * per-address map holds one entry per address with an open connection, so it is bounded by
 * `max.connections`.
 */
export class ConnectionQuotas {
  readonly connectionsMax: number
  readonly perIpMax: number
  readonly #perIp = new Map<string, number>()
  #count = 0

  constructor (connectionsMax: number, perIpMax: number) {
    this.connectionsMax = connectionsMax
    this.perIpMax = perIpMax
  }

  get count (): number {
    return this.#count
  }

  /** Undefined when the connection may open (its place is taken), else why not. */
  acquire (address: string): string | undefined {
    if (this.#count >= this.connectionsMax) {
      return `${this.connectionsMax} connections open (max.connections)`
    }
    const fromAddress = this.#perIp.get(address) ?? 0
    if (fromAddress >= this.perIpMax) {
      return `${fromAddress} connections open from ${address} (max.connections.per.ip)`
    }
    this.#perIp.set(address, fromAddress + 1)
    this.#count++
    return undefined
  }

  release (address: string): void {
    const left = (this.#perIp.get(address) ?? 1) - 1
    if (left > 0) this.#perIp.set(address, left)
    else this.#perIp.delete(address)
    this.#count--
  }
}
