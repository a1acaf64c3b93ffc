/**
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics (and describing the
 * broker). Topic overrides are metadata records, so they survive restarts and apply to the
 * partition logs at once. AlterConfigs replaces a topic's whole override set (Kafka's legacy
 * semantics); IncrementalAlterConfigs sets, deletes, appends to or subtracts from single
 * properties (KIP-339). Broker configs are static in Tributary: altering them is refused with
 * a message that says so. Internal topics cannot be reconfigured by clients (INVALID_REQUEST).
 *
 * DescribeConfigs v1+ give each config's source and synonyms (KIP-226), v3+ its type and
 * documentation (KIP-569), v4 is flexible; AlterConfigs v2 and IncrementalAlterConfigs v1 are
 * flexible.
 */
import {
  AlterConfigs, type AlterConfigsRequest, type AlterConfigsResponse,
} from '../../protocol/apis/alter-configs.js'
import {
  DescribeConfigs, type DescribeConfigsRequest, type DescribeConfigsResponse,
} from '../../protocol/apis/describe-configs.js'
import {
  IncrementalAlterConfigs, type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from '../../protocol/apis/incremental-alter-configs.js'
import { ControllerError } from '../../controller/controller.js'
import { ERROR, errorCodeOf } from '../../protocol/errors.js'
import type { Broker, ConfigEntryView, HandlerEntry } from '../broker.js'
import { isInternalTopic } from '../internal-topics.js'

export const RESOURCE_TOPIC = 2
export const RESOURCE_BROKER = 4

/** Kafka's DescribeConfigsResponse config_source codes. */
export const CONFIG_SOURCE: Record<ConfigEntryView['source'], number> = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
}
const CONFIG_TYPE: Record<string, number> = {
  boolean: 1, string: 2, int: 3, short: 4, long: 5, double: 6, list: 7, class: 8, password: 9,
}

type DescribeResult = DescribeConfigsResponse['results'][number]

export const describeConfigsHandler:
HandlerEntry<DescribeConfigsRequest, DescribeConfigsResponse> = {
  api: DescribeConfigs,
  // Kafka 4 serves DescribeConfigs from v1 (KIP-896), and no tested client sends older.
  minVersion: 1,
  maxVersion: 4,
  async handle (broker, request, context) {
    const results = request.resources.map(resource =>
      describeResource(broker, resource.resourceType, resource.resourceName,
        resource.configurationKeys, request.includeSynonyms, context.version,
        request.includeDocumentation))
    return { throttleTimeMs: 0, results }
  },
}

function describeResource (broker: Broker, resourceType: number, resourceName: string,
  keys: string[] | null, includeSynonyms: boolean, version: number,
  includeDocumentation: boolean): DescribeResult {
  const result: DescribeResult = {
    errorCode: ERROR.NONE, errorMessage: null, resourceType, resourceName, configs: [],
  }
  let entries: ConfigEntryView[]
  if (resourceType === RESOURCE_TOPIC) {
    const topic = broker.image.topic(resourceName)
    if (topic === undefined) {
      result.errorCode = ERROR.UNKNOWN_TOPIC_OR_PARTITION
      result.errorMessage = `topic '${resourceName}' does not exist`
      return result
    }
    entries = broker.configs.describeTopic(resourceName, topic.configs)
  } else if (resourceType === RESOURCE_BROKER) {
    if (resourceName !== '' && resourceName !== String(broker.settings.nodeId)) {
      result.errorCode = errorCodeOf('INVALID_REQUEST')
      result.errorMessage = `this is broker ${broker.settings.nodeId}, not ${resourceName}`
      return result
    }
    entries = broker.configs.describeBroker()
  } else {
    result.errorCode = errorCodeOf('INVALID_REQUEST')
    result.errorMessage = `unsupported resource type ${resourceType}`
    return result
  }
  const wanted = keys === null ? undefined : new Set(keys)
  result.configs = entries
    .filter(entry => wanted === undefined || wanted.has(entry.name))
    .map(entry => ({
      name: entry.name,
      value: entry.isSensitive ? null : entry.value,
      readOnly: entry.readOnly,
      isDefault: entry.isDefault,
      configSource: version >= 1 ? CONFIG_SOURCE[entry.source] : -1,
      isSensitive: entry.isSensitive,
      synonyms: includeSynonyms
        ? entry.synonyms.map(synonym => ({
          name: synonym.name, value: synonym.value, source: CONFIG_SOURCE[synonym.source],
        }))
        : [],
      configType: CONFIG_TYPE[entry.type] ?? 0,
      // Only when asked for, as Kafka's ConfigHelper answers (KIP-569).
      documentation: includeDocumentation ? entry.documentation : null,
    }))
  return result
}

type AlterResult = AlterConfigsResponse['responses'][number]

export const alterConfigsHandler: HandlerEntry<AlterConfigsRequest, AlterConfigsResponse> = {
  api: AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle (broker, request) {
    const responses: AlterResult[] = []
    for (const resource of request.resources) {
      const topic = broker.image.topic(resource.resourceName)
      const changes = new Map<string, string | null>()
      // Legacy AlterConfigs replaces the whole set: what is not given is removed.
      for (const name of topic?.configs.keys() ?? []) changes.set(name, null)
      for (const config of resource.configs) changes.set(config.name, config.value)
      responses.push(await applyChanges(broker, resource.resourceType, resource.resourceName,
        changes, request.validateOnly))
    }
    return { throttleTimeMs: 0, responses }
  },
}

const OPERATION_SET = 0
const OPERATION_DELETE = 1
const OPERATION_APPEND = 2
const OPERATION_SUBTRACT = 3

export const incrementalAlterConfigsHandler:
HandlerEntry<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> = {
  api: IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle (broker, request) {
    const responses: AlterResult[] = []
    for (const resource of request.resources) {
      const current: Map<string, string> =
        broker.image.topic(resource.resourceName)?.configs ?? new Map<string, string>()
      const changes = new Map<string, string | null>()
      let invalid: string | undefined
      for (const config of resource.configs) {
        const existing = (changes.has(config.name) ? changes.get(config.name) : undefined) ??
          current.get(config.name) ?? ''
        const items: string[] = existing === '' ? [] : existing.split(',')
        const operand = (config.value ?? '').split(',').filter(item => item !== '')
        switch (config.configOperation) {
          case OPERATION_SET: changes.set(config.name, config.value); break
          case OPERATION_DELETE: changes.set(config.name, null); break
          case OPERATION_APPEND:
            changes.set(config.name, [...items, ...operand.filter(item => !items.includes(item))]
              .join(','))
            break
          case OPERATION_SUBTRACT:
            changes.set(config.name, items.filter(item => !operand.includes(item)).join(','))
            break
          default: invalid = `unknown config operation ${config.configOperation}`
        }
      }
      if (invalid !== undefined) {
        responses.push({
          errorCode: errorCodeOf('INVALID_REQUEST'), errorMessage: invalid,
          resourceType: resource.resourceType, resourceName: resource.resourceName,
        })
        continue
      }
      responses.push(await applyChanges(broker, resource.resourceType, resource.resourceName,
        changes, request.validateOnly))
    }
    return { throttleTimeMs: 0, responses }
  },
}

async function applyChanges (broker: Broker, resourceType: number, resourceName: string,
  changes: Map<string, string | null>, validateOnly: boolean): Promise<AlterResult> {
  const result: AlterResult = { errorCode: ERROR.NONE, errorMessage: null, resourceType,
    resourceName }
  if (resourceType !== RESOURCE_TOPIC) {
    result.errorCode = errorCodeOf('INVALID_REQUEST')
    result.errorMessage = resourceType === RESOURCE_BROKER
      ? 'broker configs are static in Tributary: set them in the properties file, ' +
        'environment or flags and restart'
      : `unsupported resource type ${resourceType}`
    return result
  }
  if (broker.image.topic(resourceName) === undefined) {
    result.errorCode = ERROR.UNKNOWN_TOPIC_OR_PARTITION
    result.errorMessage = `topic '${resourceName}' does not exist`
    return result
  }
  if (isInternalTopic(resourceName)) {
    // Kafka leaves this to authorization (ALTER_CONFIGS on the topic); Tributary has no ACLs,
    // so the broker's own settings for its internal topics are not open to clients.
    result.errorCode = errorCodeOf('INVALID_REQUEST')
    result.errorMessage = `'${resourceName}' is an internal topic; its configs are set by the ` +
      'broker'
    return result
  }
  const invalid = broker.configs.validateTopicConfigs(Object.fromEntries(changes))
  if (invalid !== undefined) {
    result.errorCode = errorCodeOf('INVALID_CONFIG')
    result.errorMessage = invalid
    return result
  }
  if (validateOnly) return result
  try {
    // The replica manager pushes the new settings to the open logs as it follows the commit.
    await broker.controller.alterConfigs('topic', resourceName, changes)
  } catch (error) {
    if (!(error instanceof ControllerError)) throw error
    result.errorCode = errorCodeOf(error.errorName)
    result.errorMessage = error.message
  }
  return result
}
