/**
 * The Go interop program (the module in test/interop/go/, franz-go's kgo and kadm): built into
 * its bin/ (which git ignores) by `go build`, incremental through Go's build cache, with modules
 * from the module proxy or the local module cache. Used by the franz-go client tests
 * (franz-go.test.ts, latency-generators.test.ts) and the latency benchmark's franz-go generator
 * (bench/lib/franz-go-run.ts).
 */
import path from 'node:path'
import { REPO_ROOT } from '../support/broker-process.js'
import { commandWorks, runProgram } from './client-harness.js'

export const GO_DIR = path.join(REPO_ROOT, 'test/interop/go')
export const GO_BINARY = path.join(GO_DIR, 'bin/interop')

/** The go command runs (the tests that need it skip otherwise). */
export function goToolchainWorks (): boolean {
  return commandWorks('go', ['version'])
}

/** Builds the Go program into GO_BINARY; throws with go build's output when it fails. */
export async function buildGo (): Promise<void> {
  const build = await runProgram('go', ['build', '-o', GO_BINARY, '.'], {
    cwd: GO_DIR, env: { ...process.env, GOFLAGS: '-mod=mod' }, timeoutMs: 300_000,
  })
  if (build.code !== 0) {
    throw new Error(`go build failed in ${GO_DIR}:\n${build.stdout}\n${build.stderr}`)
  }
}
