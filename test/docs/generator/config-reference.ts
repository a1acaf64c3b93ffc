/**
 * The configuration reference of docs/operations.md, rendered from the one config schema
 * (src/config/schema.ts) and the loader's names for each property (environment variable,
 * command-line flag). Pure: the same schema always renders the same text.
 */
import {
  BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, TOPIC_CONFIGS, type ConfigDefinition,
} from '../../../src/config/schema.js'
import { envName, FLAG_PROPERTIES } from '../../../src/config/load.js'
import { cell, code, markdownTable } from './markdown-table.js'

const KIB = 1024
const UNITS_BYTES: [number, string][] = [[KIB ** 3, 'GiB'], [KIB ** 2, 'MiB'], [KIB, 'KiB']]
const UNITS_MS: [number, string][] = [
  [24 * 3600_000, 'd'], [3600_000, 'h'], [60_000, 'min'], [1000, 's'],
]

/** Reads a number with its unit, when the property name says what the unit is. */
function humanized (name: string, value: number): string | undefined {
  if (value === Number.MAX_SAFE_INTEGER) return 'never: Kafka\'s Long.MAX_VALUE'
  const units = name.endsWith('.bytes') ? UNITS_BYTES : name.endsWith('.ms') ? UNITS_MS : []
  for (const [size, unit] of units) {
    if (value >= size && value % size === 0) return `${value / size} ${unit}`
  }
  return undefined
}

function renderDefault (definition: ConfigDefinition): string {
  if (definition.default === null) return '(unset)'
  if (definition.type === 'string' || definition.type === 'list' ||
    definition.type === 'boolean') return code(definition.default)
  const human = humanized(definition.name, Number(definition.default))
  return code(definition.default) + (human === undefined ? '' : ` (${cell(human)})`)
}

function renderValid (definition: ConfigDefinition): string {
  if (definition.choices !== undefined) {
    const each = definition.choices.map(code).join(', ')
    return definition.type === 'list' ? `list of ${each}` : `one of ${each}`
  }
  if (definition.type === 'boolean') return '`true`, `false`'
  const { min, max } = definition
  if (min !== undefined && max !== undefined) return `${min} to ${max}`
  if (min !== undefined) return `≥ ${min}`
  if (max !== undefined) return `≤ ${max}`
  return definition.type === 'string' ? 'non-empty' : 'any'
}

function flagOf (property: string): string | undefined {
  const flag = Object.entries(FLAG_PROPERTIES).find(([, name]) => name === property)?.[0]
  return flag === undefined ? undefined : `--${flag}`
}

/** The sentence-cased doc line, ending in a full stop. */
function renderDoc (definition: ConfigDefinition): string {
  const doc = definition.doc.trim()
  return cell(/[.!?]$/.test(doc) ? doc : doc + '.')
}

export function renderBrokerConfigs (): string {
  const rows = BROKER_CONFIGS.map(definition => {
    const names = [code(definition.name), code(envName(definition.name))]
    const flag = flagOf(definition.name)
    if (flag !== undefined) names.push(code(flag))
    return [names.join('<br>'), definition.type, renderDefault(definition),
      renderValid(definition), definition.importance, renderDoc(definition)]
  })
  return markdownTable(
    ['Property<br>environment variable<br>flag', 'Type', 'Default', 'Valid values',
      'Importance', 'Description'], rows)
}

export function renderTopicConfigs (): string {
  const rows = TOPIC_CONFIGS.map(definition => {
    const synonym = definition.brokerSynonym
    const brokerDefault = synonym === undefined || !BROKER_CONFIG_BY_NAME.has(synonym)
      ? '' : code(synonym)
    return [code(definition.name), definition.type, renderDefault(definition),
      renderValid(definition), brokerDefault, renderDoc(definition)]
  })
  return markdownTable(
    ['Property', 'Type', 'Default', 'Valid values', 'Broker property behind the default',
      'Description'], rows)
}
