/**
 * Replays a Dockerfile's build steps in a temporary directory the way a builder would, since no
 * container engine runs here: each stage gets its own root directory; WORKDIR moves inside it;
 * COPY copies from the build context (honouring .dockerignore) or, with --from, from an earlier
 * stage's root; RUN runs its shell command in the working directory with the stage's ENV, so
 * only what was COPY'd so far is there. Absolute paths in COPY and ENV values are taken inside
 * the stage root; a RUN that names an absolute path cannot be replayed safely and fails, except
 * system package installation (apt-get), which is skipped: the host provides those tools.
 * FROM images, USER, VOLUME, EXPOSE and the rest are recorded, not simulated.
 */
import { spawn } from 'node:child_process'
import { cp, mkdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'

export interface Instruction {
  keyword: string
  /** The text after the keyword, continuation lines joined. */
  argument: string
  line: number
}

export interface Stage {
  name: string
  root: string
  workdir: string
  env: Record<string, string>
  instructions: Instruction[]
}

export interface RunRecord {
  stage: string
  command: string
  skipped: boolean
  ms: number
  /** What the command printed (stdout and stderr interleaved), its last 64 KiB. */
  output: string
}

const OUTPUT_KEPT = 64 * 1024

export interface Replay {
  stages: Stage[]
  runs: RunRecord[]
  final: Stage
}

/** Splits a Dockerfile into instructions, joining `\`-continued lines, dropping comments. */
export function parseDockerfile (text: string): Instruction[] {
  const instructions: Instruction[] = []
  let pending = ''
  let startLine = 0
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) return
    if (pending !== '' && line.startsWith('#')) return // comments inside a continuation
    if (pending === '') startLine = index + 1
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1).trimEnd() + ' '
      return
    }
    const whole = (pending + line).trim()
    pending = ''
    const space = whole.search(/\s/)
    instructions.push({
      keyword: (space < 0 ? whole : whole.slice(0, space)).toUpperCase(),
      argument: space < 0 ? '' : whole.slice(space + 1).trim(),
      line: startLine,
    })
  })
  return instructions
}

/** Shell-form words, or the JSON array of the exec form. */
export function words (argument: string): string[] {
  if (argument.startsWith('[')) return JSON.parse(argument) as string[]
  return argument.split(/\s+/).filter(word => word !== '')
}

/** .dockerignore patterns (Go filepath.Match with `**`), matched against context paths. */
export function ignoreMatcher (text: string): (relative: string) => boolean {
  const patterns = text.split('\n').map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
    .map(pattern => {
      const source = pattern.replace(/^\/+|\/+$/g, '').split('/').map(part => part === '**'
        ? '.*'
        : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')).join('/')
      // A pattern matching a directory excludes everything under it.
      return new RegExp(`^${source}(/.*)?$`)
    })
  return relative => patterns.some(pattern => pattern.test(relative))
}

function inside (root: string, absolute: string): string {
  return path.join(root, path.normalize(absolute))
}

function resolveIn (stage: Stage, target: string): string {
  return target.startsWith('/') ? inside(stage.root, target)
    : path.join(inside(stage.root, stage.workdir), target)
}

function parseEnv (argument: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const match of argument.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
    env[match[1] as string] = (match[2] as string).replace(/^"|"$/g, '')
  }
  return env
}

async function isDirectory (file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isDirectory() ?? false
}

async function copy (stage: Stage, stages: Stage[], context: string,
  ignored: (relative: string) => boolean, instruction: Instruction): Promise<void> {
  const parts = words(instruction.argument)
  const flags = parts.filter(part => part.startsWith('--'))
  const paths = parts.filter(part => !part.startsWith('--'))
  const from = flags.find(flag => flag.startsWith('--from='))?.slice('--from='.length)
  const source = from === undefined ? undefined : stages.find(s => s.name === from)
  if (from !== undefined && source === undefined) {
    throw new Error(`line ${instruction.line}: COPY --from=${from}: no such stage`)
  }
  const destination = paths.pop()
  if (destination === undefined || paths.length === 0) {
    throw new Error(`line ${instruction.line}: COPY needs a source and a destination`)
  }
  const target = resolveIn(stage, destination)
  const intoDirectory = destination.endsWith('/') || paths.length > 1
  for (const item of paths) {
    const origin = source === undefined ? path.join(context, item)
      : resolveIn(source, item)
    if (source === undefined && ignored(path.relative(context, origin))) {
      throw new Error(`line ${instruction.line}: COPY ${item} is excluded by .dockerignore`)
    }
    const exists = await stat(origin).catch(() => undefined)
    if (exists === undefined) {
      throw new Error(`line ${instruction.line}: COPY ${item}: not found` +
        (source === undefined ? ' in the build context' : ` in stage ${source.name}`))
    }
    const into = exists.isFile() && (intoDirectory || await isDirectory(target))
      ? path.join(target, path.basename(item)) : target
    await mkdir(exists.isFile() ? path.dirname(into) : into, { recursive: true })
    await cp(origin, into, {
      recursive: true,
      verbatimSymlinks: true,
      filter: file => source !== undefined || !ignored(path.relative(context, file)),
    })
  }
}

async function run (stage: Stage, command: string, extraEnv: Record<string, string>,
  timeoutMs: number): Promise<string> {
  const cwd = inside(stage.root, stage.workdir)
  return new Promise<string>((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd,
      env: { ...process.env, ...stage.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEPT)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else {
        reject(new Error(`RUN ${command} (stage ${stage.name}) exited ${code ?? signal}:\n` +
          output.slice(-8000)))
      }
    })
  })
}

export interface ReplayOptions {
  context: string
  buildDir: string
  /** Environment added to every RUN (e.g. npm's offline preference). */
  runEnv?: Record<string, string>
  runTimeoutMs?: number
}

export async function replayDockerfile (dockerfile: string,
  options: ReplayOptions): Promise<Replay> {
  const instructions = parseDockerfile(await readFile(dockerfile, 'utf8'))
  const ignoreText = await readFile(path.join(options.context, '.dockerignore'), 'utf8')
    .catch(() => '')
  const ignored = ignoreMatcher(ignoreText)
  const stages: Stage[] = []
  const runs: RunRecord[] = []
  let stage: Stage | undefined
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const parts = words(instruction.argument)
      const alias = parts.length >= 3 && parts[1]?.toUpperCase() === 'AS' ? parts[2] : undefined
      const index = stages.length
      stage = { name: alias ?? String(index), root: path.join(options.buildDir, `stage-${index}`),
        workdir: '/', env: {}, instructions: [] }
      await mkdir(stage.root, { recursive: true })
      stages.push(stage)
      continue
    }
    if (stage === undefined) throw new Error(`line ${instruction.line}: before any FROM`)
    stage.instructions.push(instruction)
    switch (instruction.keyword) {
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, instruction.argument)
        await mkdir(inside(stage.root, stage.workdir), { recursive: true })
        break
      case 'ENV':
        Object.assign(stage.env, parseEnv(instruction.argument))
        break
      case 'COPY':
        await copy(stage, stages, options.context, ignored, instruction)
        break
      case 'RUN': {
        const command = instruction.argument
        const skipped = /\bapt-get\b/.test(command)
        if (!skipped && /(^|[\s=])\/[A-Za-z]/.test(command)) {
          throw new Error(`line ${instruction.line}: RUN names an absolute path, which this ` +
            `replay cannot confine: ${command}`)
        }
        const started = Date.now()
        const output = skipped ? ''
          : await run(stage, command, options.runEnv ?? {}, options.runTimeoutMs ?? 600_000)
        runs.push({ stage: stage.name, command, skipped, ms: Date.now() - started, output })
        break
      }
      case 'ADD':
        throw new Error(`line ${instruction.line}: ADD is not replayed; use COPY`)
      default:
        break // USER, VOLUME, EXPOSE, HEALTHCHECK, ENTRYPOINT, CMD, LABEL: recorded only
    }
  }
  if (stage === undefined) throw new Error('no FROM in the Dockerfile')
  return { stages, runs, final: stage }
}

/** The stage's ENV with absolute paths (values starting with `/`) taken inside its root. */
export function stageEnvironment (stage: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(stage.env)) {
    env[name] = value.startsWith('/') ? inside(stage.root, value) : value
  }
  return env
}

export function stageDirectory (stage: Stage): string {
  return inside(stage.root, stage.workdir)
}
