/**
 * Invariant checks that stay on in production (TigerStyle; undici's `assert`).
 *
 * `assert` is for programmer errors only: a violated invariant means our own state is wrong,
 * so it throws and the caller must not try to carry on with that state. Bad input from a peer
 * or a disk is never asserted: decoders return errors and the broker answers with an error code.
 */
export class AssertionError extends Error {
  override name = 'AssertionError'
}

export function assert (condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

export function assertNever (value: never, message = 'unexpected value'): never {
  throw new AssertionError(`${message}: ${String(value)}`)
}

/** Documents that both outcomes of `condition` are normal (TigerBeetle's `maybe`). */
export function maybe (condition: boolean): void {
  void condition
}
