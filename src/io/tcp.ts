/**
 * The TCP port: a listener whose connections are plain Duplex sockets. The network layer uses
 * only the `TcpSocket` subset below, so a simulator can hand it an in-memory pair instead.
 */
import net from 'node:net'
import { clampTimeoutMs } from '../util/timeout.js'

export interface TcpSocket {
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
  write (chunk: Buffer, callback?: (error?: Error | null) => void): boolean
  cork (): void
  uncork (): void
  pause (): this
  resume (): this
  /** `callback` runs once everything written has been handed to the kernel (finish). */
  end (callback?: () => void): this
  destroy (error?: Error): this
  setNoDelay (noDelay?: boolean): this
  /** Emits 'timeout' after this long without a read or a write (0 disables). */
  setTimeout (timeoutMs: number): this
  on (event: 'data', listener: (chunk: Buffer) => void): this
  on (event: 'drain' | 'close' | 'end' | 'timeout', listener: () => void): this
  on (event: 'error', listener: (error: Error) => void): this
  readonly destroyed: boolean
  readonly writableLength: number
}

export interface TcpListener {
  readonly port: number
  readonly host: string
  /** Stops accepting; existing connections stay until their owners close them. */
  close (): Promise<void>
}

export async function listenTcp (host: string, port: number,
  onConnection: (socket: TcpSocket) => void): Promise<TcpListener> {
  const server = net.createServer({ noDelay: true }, socket => onConnection(socket))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, backlog: 1024 }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', () => { /* accept errors (EMFILE...) must not crash the broker */ })
  const address = server.address()
  const boundPort = typeof address === 'object' && address !== null ? address.port : port
  return {
    port: boundPort,
    host,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  }
}

export function connectTcp (host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`))
    }, clampTimeoutMs(timeoutMs))
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', error => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
