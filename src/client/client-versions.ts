/**
 * The newest version of an API whose semantics this lean client implements, where that is
 * below its codec's maximum: the client picks min(broker's maximum, codec's maximum, this).
 *
 *   - Produce and Fetch stop at 12: v13 addresses topics by id, and the client addresses
 *     them by name.
 *   - FindCoordinator stops at 3: v4 batches coordinator keys (KIP-699).
 *   - OffsetFetch stops at 7: v8 batches groups (KIP-709).
 */
export const CLIENT_VERSION_MAX: ReadonlyMap<number, number> = new Map([
  [0, 12], // Produce
  [1, 12], // Fetch
  [9, 7], // OffsetFetch
  [10, 3], // FindCoordinator
])
