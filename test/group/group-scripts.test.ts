/**
 * Readable scenario scripts for the group state machine (docs/architecture.md, "Conventions";
 * after etcd-io/raft's
 * datadriven tests): each file in test/group/testdata/ is a list of blocks, a command then
 * `----` then the effects it produced (responses, appended records, the armed timer) and the
 * group's state. Member ids are shown as the client names that received them.
 * `GROUP_SCRIPTS_REWRITE=1 node --test dist/test/group/group-scripts.test.js` rewrites the
 * expected output; reviewers read the diff.
 *
 * Commands: join <client> [instance=<id>] [protocols=<a,b>], sync <client> (a leader assigns
 * 6 partitions round robin), heartbeat <client>, leave <client>, commit <client> <offset>,
 * restart <client> (a static member comes back with an empty member id), tick <ms>.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { GroupResponse, JoinResult } from '../../src/group/group-state.js'
import type { GroupRecord } from '../../src/group/group-records.js'
import { errorNameOf } from '../../src/protocol/errors.js'
import { GroupHarness } from '../sim/group-sim.js'

const TESTDATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/group/testdata')
const PARTITIONS = 6

interface Client { name: string, memberId: string, instance: string | null, join?: JoinResult }

class ScriptRunner {
  readonly h = new GroupHarness()
  readonly clients = new Map<string, Client>()
  readonly #nameOf = new Map<string, string>()
  readonly #requests = new Map<number, { client: Client, api: string }>()

  client (name: string): Client {
    let client = this.clients.get(name)
    if (client === undefined) {
      client = { name, memberId: '', instance: null }
      this.clients.set(name, client)
    }
    return client
  }

  name (memberId: string): string {
    return this.#nameOf.get(memberId) ?? (memberId === '' ? '-' : memberId)
  }

  run (command: string): string {
    const [verb = '', who = '', ...rest] = command.trim().split(/\s+/)
    const options = new Map(rest.filter(r => r.includes('=')).map(r => r.split('=') as
      [string, string]))
    if (verb === 'tick') {
      return this.#effects(() => this.h.advance(Number(who)))
    }
    const client = this.client(who)
    return this.#effects(() => this.#send(verb, client, options, rest))
  }

  #send (verb: string, client: Client, options: Map<string, string>, rest: string[]): void {
    const h = this.h
    const ref = { memberId: client.memberId, groupInstanceId: client.instance }
    const track = (requestId: number): void => {
      this.#requests.set(requestId, { client, api: verb })
    }
    if (verb === 'restart') client.memberId = ''
    if (verb === 'join' || verb === 'restart') {
      client.instance = options.get('instance') ?? client.instance
      const protocols = (options.get('protocols') ?? 'roundrobin').split(',')
      h.request(requestId => {
        track(requestId)
        this.#nameOf.set(`id${requestId}`, client.name) // the id it gets if it needs one
        return { type: 'join', requestId, request: { memberId: client.memberId,
          generatedMemberId: `id${requestId}`, groupInstanceId: client.instance,
          clientId: client.name, clientHost: 'h', sessionTimeoutMs: 1000,
          rebalanceTimeoutMs: 2000, protocolType: 'consumer',
          protocols: protocols.map(name => ({ name, metadata: Buffer.from(name) })),
          requireKnownMemberId: client.instance === null } }
      })
    } else if (verb === 'sync') {
      const join = client.join
      const assignments = join !== undefined && join.leader === join.memberId
        ? GroupHarness.assign(join, PARTITIONS)
        : []
      h.request(requestId => {
        track(requestId)
        return { type: 'sync', requestId, member: ref,
          generationId: join?.generationId ?? -1, assignments }
      })
    } else if (verb === 'heartbeat' || verb === 'leave' || verb === 'commit') {
      h.request(requestId => {
        track(requestId)
        if (verb === 'leave') return { type: 'leave', requestId, members: [ref] }
        const generationId = client.join?.generationId ?? -1
        if (verb === 'heartbeat') return { type: 'heartbeat', requestId, member: ref, generationId }
        return { type: 'commit', requestId, member: ref, generationId, retentionMs: -1,
          offsets: [{ topic: 't', partition: 0, offset: Number(rest[0] ?? 0), leaderEpoch: -1,
            metadata: null }] }
      })
    } else {
      throw new Error(`unknown command ${verb}`)
    }
  }

  /** Runs `action` and renders every effect it produced, in order, then the group's state. */
  #effects (action: () => void): string {
    const group = this.h.group
    const from = this.h.trace.length
    action()
    const lines: string[] = []
    for (const effect of this.h.trace.slice(from)) {
      if (effect.type === 'timer') lines.push(`timer ${effect.deadlineMs ?? 'none'}`)
      else if (effect.type === 'append') lines.push(...effect.records.map(r => this.#record(r)))
      else {
        const request = this.#requests.get(effect.requestId)
        if (request !== undefined) {
          lines.push(this.#response(request.client, request.api, effect.response))
        }
      }
    }
    const members = [...group.members.keys()].map(id => this.name(id)).join(',')
    lines.push(`state ${group.state} gen=${group.generationId} members=[${members}]` +
      ` t=${this.h.nowMs}`)
    return lines.join('\n')
  }

  #response (client: Client, api: string, response: GroupResponse): string {
    if (response.api === 'join') {
      const result = response.result
      if (result.memberId !== '' && !this.#nameOf.has(result.memberId)) {
        this.#nameOf.set(result.memberId, client.name)
      }
      if (result.errorCode === 0 || result.errorCode === 79) client.memberId = result.memberId
      if (result.errorCode === 0) client.join = result
    }
    return `${api} ${client.name} -> ${render(response, id => this.name(id))}`
  }

  #record (record: GroupRecord): string {
    if (record.kind === 'offset') {
      return `append offset ${record.topic}/${record.partition}` +
        (record.value === null ? ' tombstone' : `=${record.value.offset}`)
    }
    if (record.kind === 'txn-offset') {
      return `append txn-offset ${record.topic}/${record.partition}` +
        (record.value === null ? ' tombstone' : `=${record.value.offset}`)
    }
    if (record.value === null) return 'append group tombstone'
    const value = record.value
    const members = value.members.map(m => `${this.name(m.memberId)}:[${[...m.assignment]}]`)
    return `append group gen=${value.generationId} leader=${this.name(value.leaderId ?? '')} ` +
      `protocol=${value.protocolName ?? '-'} members=${members.join(',')}`
  }
}

function render (response: GroupResponse,
  name: (memberId: string) => string): string {
  switch (response.api) {
    case 'join': {
      const r = response.result
      if (r.errorCode !== 0) return errorNameOf(r.errorCode)
      const members = r.members.map(m => name(m.memberId)).join(',')
      return `NONE gen=${r.generationId} leader=${name(r.leader)} protocol=${r.protocolName}` +
        ` members=[${members}]`
    }
    case 'sync':
      return response.errorCode === 0
        ? `NONE [${[...response.assignment]}]`
        : errorNameOf(response.errorCode)
    case 'leave':
    case 'commit':
      return response.errorCodes.map(errorNameOf).join(',')
    default:
      return errorNameOf(response.errorCode)
  }
}

function runScript (text: string): string {
  const runner = new ScriptRunner()
  const blocks = text.trim().split(/\n\s*\n/)
  return blocks.map(block => {
    const lines = block.split('\n')
    const separator = lines.indexOf('----')
    const commands = separator < 0 ? lines : lines.slice(0, separator)
    const body = commands.filter(line => !line.startsWith('#'))
    const comments = commands.filter(line => line.startsWith('#'))
    const output = body.map(command => runner.run(command)).join('\n')
    return [...comments, ...body, '----', output].join('\n')
  }).join('\n\n') + '\n'
}

for (const file of readdirSync(TESTDATA).filter(name => name.endsWith('.txt')).sort()) {
  it(`group script ${file} produces its recorded trace`, () => {
    const full = path.join(TESTDATA, file)
    const text = readFileSync(full, 'utf8')
    const actual = runScript(text)
    if (process.env.GROUP_SCRIPTS_REWRITE === '1') writeFileSync(full, actual)
    else assert.equal(actual, text)
  })
}
