/**
 * Incremental fetch sessions (KIP-227): Tributary keeps none, and answers exactly as a Kafka
 * broker whose session cache has no free slot (`max.incremental.fetch.session.cache.slots`
 * exhausted, or 0):
 *
 *   - a full fetch (session_epoch 0 = "open a session", or -1 = "no session") is served in
 *     full and answered with session_id 0, so the client keeps sending full fetches (Kafka's
 *     FetchManager.newContext: SessionlessFetchContext when no session could be created);
 *     a full fetch with epoch -1 naming a session closes it, and there is none to close;
 *   - an incremental fetch (any other epoch) names a session this broker does not have:
 *     FETCH_SESSION_ID_NOT_FOUND, on which clients drop the session and fetch in full.
 *
 * Why: one node, whose fetch responses read straight from the segments, gains little from
 * sessions (they save request bytes for fetchers of many partitions), while a cache per
 * client is state a client can grow. Every client must already handle a broker without free
 * slots, so this is always correct; docs/protocol.md, Fetch.
 */
import { ERROR, errorCodeOf } from '../protocol/errors.js'

/** Kafka's FetchMetadata.INITIAL_EPOCH and FINAL_EPOCH: the two full-fetch epochs. */
const INITIAL_EPOCH = 0
const FINAL_EPOCH = -1

/** The session id every response carries: 0, no session was created. */
export const NO_FETCH_SESSION = 0

/** NONE for a full fetch; FETCH_SESSION_ID_NOT_FOUND for an incremental one (v7+). */
export function fetchSessionError (version: number, sessionEpoch: number): number {
  if (version < 7) return ERROR.NONE
  if (sessionEpoch === INITIAL_EPOCH || sessionEpoch === FINAL_EPOCH) return ERROR.NONE
  return errorCodeOf('FETCH_SESSION_ID_NOT_FOUND')
}
