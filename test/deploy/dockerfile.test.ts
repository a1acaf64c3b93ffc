/**
 * The Dockerfile builds: its steps are replayed in a temporary directory as a builder would run
 * them (test/support/dockerfile-replay.ts: only what is COPY'd so far is present at each RUN,
 * and `npm ci` and the compile really run), and the final stage runs: its ENTRYPOINT starts a
 * broker from the final stage's files alone (production dependencies only, the /data volume
 * directory from the image), and its HEALTHCHECK command reports healthy.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  ignoreMatcher, parseDockerfile, replayDockerfile, stageDirectory, stageEnvironment, words,
  type Replay,
} from '../support/dockerfile-replay.js'
import { REPO_ROOT } from '../support/broker-process.js'

const READY = /ready: kafka=([\d.]+):(\d+) http=([\d.]+):(\d+)/

describe('Dockerfile replay helpers', () => {
  it('joins continuation lines and skips comments', () => {
    const parsed = parseDockerfile(
      '# c\nFROM x AS b\nRUN a \\\n  # inside\n  && b\nCOPY ["a", "b"]\n')
    assert.deepEqual(parsed.map(i => [i.keyword, i.argument, i.line]),
      [['FROM', 'x AS b', 2], ['RUN', 'a && b', 3], ['COPY', '["a", "b"]', 6]])
    assert.deepEqual(words('["a", "b"]'), ['a', 'b'])
  })

  it('matches .dockerignore patterns and what is under them', () => {
    const ignored = ignoreMatcher('node_modules\n*.cpuprofile\nbench/results\n')
    assert.ok(ignored('node_modules'))
    assert.ok(ignored('node_modules/x/y.js'))
    assert.ok(ignored('a.cpuprofile'))
    assert.ok(ignored('bench/results/x.json'))
    assert.ok(!ignored('src/node_modules.ts'))
    assert.ok(!ignored('bench/load.ts'))
  })
})

describe('the Dockerfile, replayed', { timeout: 900_000 }, () => {
  let buildDir: string
  let replay: Replay
  before(async () => {
    buildDir = await mkdtemp(path.join(os.tmpdir(), 'tributary-docker-'))
    const started = Date.now()
    replay = await replayDockerfile(path.join(REPO_ROOT, 'Dockerfile'), {
      context: REPO_ROOT,
      buildDir,
      // The registry's packages usually sit in npm's cache already: use them first.
      runEnv: { npm_config_prefer_offline: 'true', npm_config_audit: 'false',
        npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    })
    const steps = replay.runs.map(r => `${r.skipped ? 'skipped' : `${r.ms} ms`}: ${r.command}`)
    console.log(`Dockerfile replayed in ${Date.now() - started} ms\n  ${steps.join('\n  ')}`)
  })
  after(async () => {
    if (buildDir !== undefined) await rm(buildDir, { recursive: true, force: true })
  })

  it('runs every build step with only the files copied before it', () => {
    assert.ok(replay.stages.length >= 2, 'a build stage and a run stage')
    assert.ok(replay.runs.some(r => !r.skipped && /npm (ci|install)/.test(r.command)))
  })

  it('installs on Node 20 without engine or install-script warnings', () => {
    const output = replay.runs.map(r => r.output).join('\n')
    assert.doesNotMatch(output, /EBADENGINE|install-scripts|allowScripts/)
  })

  it('runs as a non-root user with /data as the volume', () => {
    const keywords = replay.final.instructions
    const user = keywords.filter(i => i.keyword === 'USER').pop()
    assert.ok(user !== undefined && user.argument !== 'root' && user.argument !== '0')
    assert.ok(keywords.some(i => i.keyword === 'VOLUME' && words(i.argument).includes('/data')))
    assert.equal(stageEnvironment(replay.final).TRIBUTARY_LOG_DIRS,
      path.join(replay.final.root, 'data'))
  })

  it('carries no dev dependencies, sources or tests in the final stage', async () => {
    const app = stageDirectory(replay.final)
    await stat(path.join(app, 'dist/src/cli/index.js'))
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as
      { version: string }
    const version = spawnSync(process.execPath, ['bin/tributary.js', '--version'],
      { cwd: app, encoding: 'utf8', timeout: 30_000 })
    assert.equal(version.stdout.trim(), pkg.version, version.stderr)
    for (const absent of ['node_modules/typescript', 'node_modules/kafkajs', 'src', 'test']) {
      assert.equal(await stat(path.join(app, absent)).catch(() => undefined), undefined,
        `${absent} is in the image`)
    }
  })

  it('starts a broker with its ENTRYPOINT and passes its HEALTHCHECK', async () => {
    const final = replay.final
    const entrypoint = words(final.instructions.filter(i => i.keyword === 'ENTRYPOINT')
      .pop()?.argument ?? '[]')
    assert.equal(entrypoint[0], 'node')
    const env = { ...process.env, ...stageEnvironment(final) }
    // The image listens on 0.0.0.0:9092; here on loopback, ephemeral ports.
    const child = spawn(process.execPath, [...entrypoint.slice(1), '--host', '127.0.0.1',
      '--port', '0', '--http-port', '0'], { cwd: stageDirectory(final), env,
      stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise(resolve => child.once('exit', resolve))
    let output = ''
    try {
      const ready = await new Promise<RegExpMatchArray>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready:\n${output}`)), 30_000)
        const onData = (chunk: Buffer): void => {
          output += chunk.toString()
          const match = READY.exec(output)
          if (match !== null) {
            clearTimeout(timer)
            resolve(match)
          }
        }
        child.stdout.on('data', onData)
        child.stderr.on('data', onData)
        child.once('exit', code => {
          clearTimeout(timer)
          reject(new Error(`broker exited ${code}:\n${output}`))
        })
      })
      assert.match(output, new RegExp(`data=${path.join(final.root, 'data')}`))
      const healthcheck = final.instructions.filter(i => i.keyword === 'HEALTHCHECK').pop()
      const command = words(/CMD\s+(.*)$/.exec(healthcheck?.argument ?? '')?.[1] ?? '[]')
        .map(word => word.replace(/:9092$/, `:${ready[2] as string}`))
      assert.equal(command[0], 'node')
      const health = spawnSync(process.execPath, command.slice(1),
        { cwd: stageDirectory(final), env, encoding: 'utf8', timeout: 30_000 })
      assert.equal(health.status, 0, health.stderr)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
    // Stopped, the broker has printed all it would (the warning follows the ready line).
    assert.doesNotMatch(output, /node was started without/,
      'the entry point passes the steady-load node flags')
  })

  it('is what docker-compose builds', async () => {
    const compose = await readFile(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')
    assert.match(compose, /^\s+build: \.$/m)
  })
})
