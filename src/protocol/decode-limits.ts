/**
 * How much a request from a client may hold once decoded, decided once for the protocol layer:
 * how long its strings may be and how many array elements it may expand into.
 *
 * Strings. Every string a request carries may be echoed in its response (a topic name in
 * Metadata, a member id in JoinGroup, a group id in ListGroups), so a string the reader accepts
 * must be one the writer can write back. Kafka's generated message code caps every string,
 * classic or compact, at 0x7fff bytes of UTF-8, both when reading and when writing. The catch
 * is invalid UTF-8: like Java's `new String(bytes, UTF_8)`, Node replaces each invalid byte with
 * U+FFFD, three bytes when encoded again, so 11,000 bytes of 0xFF decode to a string of 33,000
 * bytes that no writer can echo. The reader therefore bounds the decoded string's UTF-8 length,
 * not only its length prefix, and refuses a longer one (ProtocolDecodeError: the connection is
 * closed with a logged reason; Kafka itself would fail to serialize that response).
 *
 * Most strings of a request are names (topic names, group, transactional and client ids,
 * config and protocol names), and names get a tighter bound, so that what the broker builds from
 * one still fits in a string: a new member id is the client id plus '-' and a UUID (KIP-394),
 * and error messages quote topic names, group ids and config names. Kafka has no bound below
 * 0x7fff for them, but no legal name comes near this one (a topic name has at most 249
 * characters): an illegal topic name up to it is answered per topic with
 * INVALID_TOPIC_EXCEPTION (topic-name.ts), a longer one is malformed. The fields that keep the
 * full string limit say so in their schema (`maxBytes`): member ids (built from client ids),
 * config values, offset commit metadata and leave/join reasons, free text that Kafka bounds, if
 * at all, with its own errors (offset.metadata.max.bytes). Responses, read by our client, keep
 * Kafka's limit everywhere.
 *
 * Elements. A forged array count is checked against the bytes left in the frame before
 * anything is allocated (each element has a minimum wire size, see schema.ts), which bounds the
 * count by the frame; but a large frame of tiny elements (a Metadata request of millions of
 * empty topic names) would still become millions of objects, tens of times its own size in
 * memory. So one request decodes to at most REQUEST_ELEMENTS_MAX array elements in all. Kafka
 * has no such cap; this one sits far above real use (a fetch of every partition a broker
 * leads, a Metadata request naming every topic), and past it the request is malformed.
 */

/** Kafka's limit for every string on the wire, in bytes of UTF-8. */
export const STRING_BYTES_MAX = 0x7fff

/**
 * Every string of a request whose field does not say otherwise, and the header's client id:
 * half the string limit, leaving room for anything built from one.
 */
export const NAME_BYTES_MAX = 16 * 1024

/** Array elements (structs and primitives, at every depth) one request may decode into. */
export const REQUEST_ELEMENTS_MAX = 200_000
