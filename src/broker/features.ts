/**
 * The feature flags ApiVersions v3+ reports (KIP-584): what this broker supports and what is
 * finalized for the cluster. Only features whose semantics Tributary implements are listed:
 *
 *   - metadata.version: the level of Kafka 4.1's default (4.1-IV1 = 27), supported from 3.3-IV3
 *     (7), the oldest a Kafka 4.x cluster runs (KIP-896 / KIP-1013).
 *
 * Left out on purpose, as a broker without them answers: transaction.version (level 2 means
 * KIP-890 part 2 transactions, which Tributary does not implement: clients then keep the
 * classic transaction protocol) and group.version (level 1 means the KIP-848 consumer-group
 * protocol, ConsumerGroupHeartbeat, which is not served: clients keep the classic protocol).
 */
export interface SupportedFeature {
  name: string
  minVersion: number
  maxVersion: number
}

export interface FinalizedFeature {
  name: string
  minVersionLevel: number
  maxVersionLevel: number
}

/** Kafka's MetadataVersion.IBP_4_1_IV1 feature level. */
export const METADATA_VERSION_LEVEL = 27
/** Kafka's MetadataVersion.MINIMUM_VERSION (IBP_3_3_IV3) feature level. */
const METADATA_VERSION_MINIMUM = 7

export const SUPPORTED_FEATURES: readonly SupportedFeature[] = Object.freeze([
  { name: 'metadata.version', minVersion: METADATA_VERSION_MINIMUM,
    maxVersion: METADATA_VERSION_LEVEL },
])

export const FINALIZED_FEATURES: readonly FinalizedFeature[] = Object.freeze([
  { name: 'metadata.version', minVersionLevel: METADATA_VERSION_LEVEL,
    maxVersionLevel: METADATA_VERSION_LEVEL },
])

/**
 * The epoch of the finalized features: Kafka gives the offset of the metadata record that
 * last changed them; ours never change, so it is a constant 0 (not -1, which means "unknown").
 */
export const FINALIZED_FEATURES_EPOCH = 0
