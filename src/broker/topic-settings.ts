/**
 * Effective topic settings: a topic's own overrides (metadata Config records) over the broker
 * defaults, resolved through the one config schema; and the DescribeConfigs view of both.
 */
import {
  BROKER_CONFIGS, brokerDefaultFor, TOPIC_CONFIGS, topicConfigValue, validateTopicConfigs,
  type BrokerConfig,
} from '../config/index.js'
import type { CleanupPolicy, LogConfig } from '../storage/log-config.js'
import type { BrokerConfigView, ConfigEntryView } from './broker.js'
import type { TopicSettings } from './replica-manager.js'

function numberOf (value: string): number {
  const number = Number(value)
  return Number.isFinite(number) ? number : Number.MAX_SAFE_INTEGER
}

/** `compact, delete` → ['compact', 'delete'] (the schema already checked each item). */
function cleanupPolicyOf (value: string): CleanupPolicy[] {
  const items = value.split(',').map(item => item.trim())
  return (['delete', 'compact'] as const).filter(policy => items.includes(policy))
}

export function logConfigFromBroker (config: BrokerConfig): LogConfig {
  return logConfigFor(config, undefined)
}

function logConfigFor (config: BrokerConfig, overrides: Map<string, string> | undefined):
LogConfig {
  const value = (name: string): number => numberOf(topicConfigValue(config, overrides, name))
  return {
    segmentBytes: value('segment.bytes'),
    segmentMs: value('segment.ms'),
    indexIntervalBytes: value('index.interval.bytes'),
    segmentIndexBytes: value('segment.index.bytes'),
    flushIntervalMessages: value('flush.messages'),
    flushIntervalMs: value('flush.ms'),
    retentionMs: value('retention.ms'),
    retentionBytes: value('retention.bytes'),
    maxMessageBytes: value('max.message.bytes'),
    fsyncBeforeAck: config.fsyncBeforeAck,
    cleanupPolicy: cleanupPolicyOf(topicConfigValue(config, overrides, 'cleanup.policy')),
    fileDeleteDelayMs: value('file.delete.delay.ms'),
    minCleanableDirtyRatio: value('min.cleanable.dirty.ratio'),
    minCompactionLagMs: value('min.compaction.lag.ms'),
    maxCompactionLagMs: value('max.compaction.lag.ms'),
    deleteRetentionMs: value('delete.retention.ms'),
  }
}

export function topicSettingsFor (config: BrokerConfig,
  overrides: Map<string, string> | undefined): TopicSettings {
  const log = logConfigFor(config, overrides)
  return {
    log,
    maxMessageBytes: log.maxMessageBytes,
    messageTimestampType: topicConfigValue(config, overrides, 'message.timestamp.type') ===
      'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    messageTimestampDifferenceMaxMs:
      numberOf(topicConfigValue(config, overrides, 'message.timestamp.difference.max.ms')),
    minInsyncReplicas: numberOf(topicConfigValue(config, overrides, 'min.insync.replicas')),
  }
}

export function createBrokerConfigView (config: BrokerConfig): BrokerConfigView {
  return {
    describeBroker (): ConfigEntryView[] {
      return BROKER_CONFIGS.map(definition => {
        const property = config.properties.get(definition.name)
        return {
          name: definition.name,
          value: property?.value ?? null,
          readOnly: true,
          isDefault: property?.source !== 'STATIC_BROKER_CONFIG',
          isSensitive: definition.sensitive === true,
          source: property?.source ?? 'DEFAULT_CONFIG',
          synonyms: [],
          documentation: definition.doc,
          type: definition.type,
        }
      })
    },
    describeTopic (_topic: string, overrides: Map<string, string>): ConfigEntryView[] {
      return TOPIC_CONFIGS.map(definition => {
        const override = overrides.get(definition.name)
        const brokerValue = brokerDefaultFor(config, definition.name)
        const brokerSource = definition.brokerSynonym !== undefined &&
          config.properties.get(definition.brokerSynonym)?.source === 'STATIC_BROKER_CONFIG'
          ? 'STATIC_BROKER_CONFIG' as const
          : 'DEFAULT_CONFIG' as const
        const synonyms: ConfigEntryView['synonyms'] = []
        if (override !== undefined) {
          synonyms.push({ name: definition.name, value: override, source: 'DYNAMIC_TOPIC_CONFIG' })
        }
        if (definition.brokerSynonym !== undefined) {
          synonyms.push({ name: definition.brokerSynonym, value: brokerValue, source: brokerSource })
        }
        return {
          name: definition.name,
          value: override ?? brokerValue,
          readOnly: false,
          isDefault: override === undefined && brokerSource === 'DEFAULT_CONFIG',
          isSensitive: false,
          source: override !== undefined ? 'DYNAMIC_TOPIC_CONFIG' : brokerSource,
          synonyms,
          documentation: definition.doc,
          type: definition.type,
        }
      })
    },
    validateTopicConfigs,
  }
}
