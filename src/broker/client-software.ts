/**
 * The client software each connection named in ApiVersions v3+ (KIP-511: the
 * client_software_name and client_software_version request fields), kept while the connection
 * is open. Kafka exposes it as the socket-server `connections` gauge tagged with
 * clientSoftwareName and clientSoftwareVersion; we export the same count per name and version
 * (tributary_client_connections, src/metrics/metrics.ts).
 *
 * Bounded by the open connections: an entry is removed when its connection closes (its abort
 * signal), and a connection that sends ApiVersions again replaces its own entry.
 */
export interface ClientSoftware {
  name: string
  version: string
}

export class ClientSoftwareRegistry {
  readonly #byConnection = new Map<number, ClientSoftware>()

  record (connectionId: number, software: ClientSoftware, connectionClosed: AbortSignal): void {
    if (connectionClosed.aborted) return
    const known = this.#byConnection.has(connectionId)
    this.#byConnection.set(connectionId, software)
    if (!known) {
      connectionClosed.addEventListener('abort', () => this.#byConnection.delete(connectionId),
        { once: true })
    }
  }

  of (connectionId: number): ClientSoftware | undefined {
    return this.#byConnection.get(connectionId)
  }

  /** Open connections per client software name and version. */
  counts (): { name: string, version: string, connections: number }[] {
    const counts = new Map<string, { name: string, version: string, connections: number }>()
    for (const software of this.#byConnection.values()) {
      const key = `${software.name}\u0000${software.version}`
      const entry = counts.get(key)
      if (entry === undefined) counts.set(key, { ...software, connections: 1 })
      else entry.connections++
    }
    return [...counts.values()]
  }
}
