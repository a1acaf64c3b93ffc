/**
 * Response bodies: JSON by default, msgpack (msgpackr) when the client asks for
 * `application/msgpack`. Requests may use either too (see server.ts's content-type parsers).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { pack } from 'msgpackr'

export const MSGPACK = 'application/msgpack'

export function wantsMsgpack (request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes(MSGPACK)
}

export function sendBody (request: FastifyRequest, reply: FastifyReply,
  body: unknown): FastifyReply {
  if (wantsMsgpack(request)) return reply.type(MSGPACK).send(pack(body))
  return reply.send(body)
}

/**
 * An absolute URL on this server for `path`, as REST Proxy builds `base_uri`: the request's
 * protocol and Host header (fastify's `request.host`; the local port when a client sends no
 * Host), so a client behind a name or a port
 * mapping gets a URL it can call. Path segments are percent-encoded by the caller.
 */
export function absoluteUrl (request: FastifyRequest, path: string): string {
  const host = request.host === '' ? `localhost:${request.socket.localPort ?? ''}` : request.host
  return `${request.protocol}://${host}${path}`
}
