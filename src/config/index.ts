/**
 * The configuration module: one schema (schema.ts), the `.properties` parser (properties.ts),
 * start-up loading with file < environment < flags precedence (load.ts), and topic configs over
 * broker defaults with their DescribeConfigs view (topic.ts). Import from here.
 */
export * from './schema.js'
export { parseProperties } from './properties.js'
export {
  ENV_ALLOW_LIST, envName, FLAG_PROPERTIES, loadBrokerConfig, numericProperty,
  type BrokerConfig, type ConfigProperty, type ConfigSource, type LoadedBrokerConfig,
} from './load.js'
export {
  brokerDefaultFor, describeBrokerConfig, describeTopicConfig, effectiveTopicConfig,
  parseTopicConfigs, topicConfigValue, validateTopicConfigs,
  type ConfigEntry, type DescribeSource, type TopicConfig,
} from './topic.js'
