/**
 * The Java interop program (the Maven project in test/interop/java/): built into its target/
 * (which git ignores) unless target/ is newer than every source, and its runtime classpath.
 * Used by the Java client tests (java-client.test.ts) and the cluster transaction tests
 * (test/cluster/txn-cluster.test.ts, eos-pipeline.test.ts).
 */
import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { REPO_ROOT } from '../support/broker-process.js'
import { commandWorks, runProgram } from './client-harness.js'

export const JAVA_DIR = path.join(REPO_ROOT, 'test/interop/java')
const CLASSPATH_FILE = path.join(JAVA_DIR, 'target/classpath.txt')

/** Java and Maven are installed (the tests that need them skip otherwise). */
export function javaToolchainWorks (): boolean {
  return commandWorks('java', ['-version']) && commandWorks('mvn', ['-v'])
}

async function newestSourceMs (dir: string): Promise<number> {
  let newest = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs)
  }
  return newest
}

/** Builds the Java program unless target/ is newer than every source; returns the classpath. */
export async function buildJava (): Promise<string> {
  const built = await stat(CLASSPATH_FILE).then(s => s.mtimeMs, () => 0)
  const sources = Math.max((await stat(path.join(JAVA_DIR, 'pom.xml'))).mtimeMs,
    await newestSourceMs(path.join(JAVA_DIR, 'src')))
  if (built <= sources) {
    // Offline first (.ci/run fetched everything); online when the local repository lacks it.
    let build = await runProgram('mvn', ['-q', '-o', 'package'], {
      cwd: JAVA_DIR, timeoutMs: 180_000,
    })
    if (build.code !== 0) {
      build = await runProgram('mvn', ['-q', 'package'], { cwd: JAVA_DIR, timeoutMs: 300_000 })
    }
    assert.equal(build.code, 0, `mvn package failed:\n${build.stdout}\n${build.stderr}`)
  }
  const dependencies = (await readFile(CLASSPATH_FILE, 'utf8')).trim()
  return [path.join(JAVA_DIR, 'target/classes'), dependencies].join(path.delimiter)
}
