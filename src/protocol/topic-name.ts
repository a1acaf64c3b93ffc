/**
 * Kafka's topic-name rule (org.apache.kafka.common.internals.Topic.validate), the one
 * definition: at most 249 characters of ASCII alphanumerics, '.', '_' and '-', and neither "."
 * nor "..". It lives at the protocol layer so that request handlers can answer a bad name per
 * topic with INVALID_TOPIC_EXCEPTION before anything else happens, as Kafka does; the
 * controller applies the same rule when it creates a topic.
 */

export const TOPIC_NAME_LENGTH_MAX = 249
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/
/** How much of an invalid name an error message quotes (a name may be 32 KiB of anything). */
const QUOTED_CHARACTERS_MAX = 64

/** Why `name` is not a legal topic name, or undefined if it is. */
export function validateTopicName (name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty'
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`
  if (name.length > TOPIC_NAME_LENGTH_MAX) {
    return `topic name is ${name.length} characters, longer than ${TOPIC_NAME_LENGTH_MAX}`
  }
  if (!LEGAL_TOPIC_NAME.test(name)) {
    return `topic name ${quoted(name)} has characters other than ASCII alphanumerics, ` +
      "'.', '_', '-'"
  }
  return undefined
}

function quoted (name: string): string {
  return name.length <= QUOTED_CHARACTERS_MAX
    ? JSON.stringify(name)
    : `${JSON.stringify(name.slice(0, QUOTED_CHARACTERS_MAX))}...`
}
