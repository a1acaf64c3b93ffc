/**
 * Kafka's default partitioner for keyed records: murmur2 of the key bytes, made positive,
 * modulo the partition count (Utils.murmur2 / Utils.toPositive in the Java client; kafkajs's
 * DefaultPartitioner computes the same), so a key lands on the same partition whichever client
 * or HTTP call wrote it.
 */
export function murmur2 (data: Buffer): number {
  const length = data.length
  const m = 0x5bd1e995
  let h = 0x9747b28c ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const rest = length & 3
  if (rest === 3) h ^= (data[whole + 2] as number) << 16
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8
  if (rest >= 1) {
    h ^= data[whole] as number
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

export function partitionForKey (key: Buffer, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount
}
