/**
 * Error responses built from the schemas, in place of one hand-written `getErrorResponse` per
 * API (Kafka's AbstractRequest.getErrorResponse). A response answers its request with one
 * error code everywhere it has one: every field named `errorCode` (or `partitionErrorCode`)
 * at every level gets it, so the error lands per partition, per topic, group or resource, and
 * in the top-level error_code, whichever the version has.
 *
 * Which request entities the response repeats is the one thing an API states, as data: its
 * `ErrorEcho`, a map from response field to where the value comes from in the request:
 *   - a string names the request field copied as is (`name: 'name'`);
 *   - `{ from, each }` makes a response array with one element per element of the request
 *     array `from`; `each` is the echo of one element, or, when the request array holds
 *     primitives (partition indexes, group ids), the response field that receives it;
 *   - a list of those concatenates them, for a request array renamed across versions (the
 *     array absent from a version decodes as empty).
 * Everything else takes its zero: null where the version allows it, else the field's default.
 *
 * The result is encodable for any request the decoder accepted: the strings it repeats were
 * bounded at decode (decode-limits.ts), and a null copied into a field that cannot be null
 * becomes the field's zero.
 */
import { assert } from '../util/assert.js'
import {
  arrayItemsOf, nullable, present, zero, zeroFor, type Field, type Message,
} from './fields.js'

export interface ArrayEcho {
  readonly from: string
  readonly each: ErrorEcho | string
}

export type EchoRule = string | ArrayEcho | readonly ArrayEcho[]

export interface ErrorEcho {
  readonly [responseField: string]: EchoRule
}

const ERROR_CODE_FIELDS = new Set(['errorCode', 'partitionErrorCode'])
/** The key under which a primitive request element is echoed (not a field name). */
const ELEMENT = '.'

export function buildErrorResponse (fields: Field[], echo: ErrorEcho, source: Message,
  version: number, errorCode: number): Message {
  const message: Message = {}
  for (const field of fields) {
    if (!present(field, version)) {
      message[field.name] = zero(field)
      continue
    }
    const rule = echo[field.name]
    if (rule === undefined) {
      message[field.name] = ERROR_CODE_FIELDS.has(field.name) ? errorCode : zeroFor(field, version)
    } else if (typeof rule === 'string') {
      const value = source[rule]
      message[field.name] = value === null || value === undefined
        ? (nullable(field, version) ? null : zeroFor(field, version))
        : value
    } else {
      const rules: readonly ArrayEcho[] = isArrayEcho(rule) ? [rule] : rule
      message[field.name] = rules.flatMap(each =>
        echoArray(structOf(field), each, source, version, errorCode))
    }
  }
  return message
}

function echoArray (fields: Field[], rule: ArrayEcho, source: Message, version: number,
  errorCode: number): Message[] {
  const items = source[rule.from]
  if (!Array.isArray(items)) return []
  const each = rule.each
  return items.map((item: unknown) => typeof each === 'string'
    ? buildErrorResponse(fields, { [each]: ELEMENT }, { [ELEMENT]: item }, version, errorCode)
    : buildErrorResponse(fields, each, item as Message, version, errorCode))
}

function isArrayEcho (rule: ArrayEcho | readonly ArrayEcho[]): rule is ArrayEcho {
  return !Array.isArray(rule)
}

function structOf (field: Field): Field[] {
  const type = field.type
  const items = arrayItemsOf(type)
  assert(Array.isArray(items), `${field.name} is not an array of structs`)
  return items
}

/**
 * Checks an API's echo against its schemas when the API is defined (a wrong field name would
 * otherwise only show when a handler fails): every response field named exists, a copied
 * request field exists with the same type, and arrays echo arrays.
 */
export function checkErrorEcho (api: string, response: Field[], request: Field[],
  echo: ErrorEcho): void {
  for (const [name, rule] of Object.entries(echo)) {
    const target = response.find(field => field.name === name)
    assert(target !== undefined, `${api}: error echo names no response field ${name}`)
    if (typeof rule === 'string') {
      const origin = request.find(field => field.name === rule)
      assert(origin !== undefined && sameType(origin.type, target.type),
        `${api}: ${name} cannot echo request field ${rule}`)
      continue
    }
    for (const each of isArrayEcho(rule) ? [rule] : rule) {
      const origin = request.find(field => field.name === each.from)
      const items = origin === undefined ? undefined : arrayItemsOf(origin.type)
      assert(items !== undefined,
        `${api}: ${name} echoes ${each.from}, which is not a request array`)
      const targetItems = structOf(target)
      if (typeof each.each === 'string') {
        const element = targetItems.find(field => field.name === each.each)
        assert(typeof items === 'string' && element !== undefined && element.type === items,
          `${api}: ${name}.${each.each} cannot hold an element of ${each.from}`)
      } else {
        assert(Array.isArray(items), `${api}: ${each.from} holds no structs to echo`)
        checkErrorEcho(api, targetItems, items, each.each)
      }
    }
  }
}

function sameType (a: Field['type'], b: Field['type']): boolean {
  return typeof a === 'string' && a === b
}
