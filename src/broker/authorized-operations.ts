/**
 * Authorized-operations bitfields (KIP-430), as Kafka answers them when no authorizer is
 * configured: every operation the resource type supports is allowed. Bit n stands for Kafka's
 * AclOperation with code n (READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
 * CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12). A request that
 * did not ask for them gets Kafka's "not requested" value, INT32_MIN.
 *
 * Tributary has no ACLs yet; when it does, these become per-principal answers.
 */
const bits = (...operations: number[]): number =>
  operations.reduce((field, operation) => field | (1 << operation), 0)

const READ = 3
const WRITE = 4
const CREATE = 5
const DELETE = 6
const ALTER = 7
const DESCRIBE = 8
const CLUSTER_ACTION = 9
const DESCRIBE_CONFIGS = 10
const ALTER_CONFIGS = 11
const IDEMPOTENT_WRITE = 12

/** Kafka's "authorized operations were not requested" (Integer.MIN_VALUE). */
export const OPERATIONS_NOT_REQUESTED = -2147483648

/** ResourceType.TOPIC's operations (AclEntry.supportedOperations). */
export const TOPIC_OPERATIONS = bits(READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE,
  DESCRIBE_CONFIGS, ALTER_CONFIGS)
/** ResourceType.CLUSTER's operations. */
export const CLUSTER_OPERATIONS = bits(CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
  IDEMPOTENT_WRITE, ALTER, DESCRIBE)
/** ResourceType.GROUP's operations. */
export const GROUP_OPERATIONS = bits(READ, DESCRIBE, DELETE)

export function authorizedOperations (requested: boolean, operations: number): number {
  return requested ? operations : OPERATIONS_NOT_REQUESTED
}
