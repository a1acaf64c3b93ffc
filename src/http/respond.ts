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
