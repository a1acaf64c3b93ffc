/**
 * The last line of defence of a broker process: an exception or a rejection that nothing caught
 * is logged and the broker keeps serving (every request path already confines its failures to
 * its connection or request; this catches what a timer, stream or promise chain let through).
 * An `AssertionError` is different: our own invariant is broken, the state in memory cannot be
 * trusted, so the process logs it and exits 1 at once, and a supervisor restarts it onto
 * recovery from disk. Installed by `tributary broker` only, never by a library caller.
 */
import { AssertionError } from './util/assert.js'

export interface GuardLogger {
  error (message: string): void
}

export function installProcessGuards (logger: GuardLogger,
  exit: (code: number) => never = code => process.exit(code)): void {
  const onFailure = (kind: string) => (error: unknown): void => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
    if (error instanceof AssertionError) {
      logger.error(`invariant broken (${kind}), exiting so that recovery runs on restart: ` +
        detail)
      exit(1)
    }
    logger.error(`${kind} (the broker keeps running): ${detail}`)
  }
  process.on('uncaughtException', onFailure('uncaught exception'))
  process.on('unhandledRejection', onFailure('unhandled rejection'))
}
