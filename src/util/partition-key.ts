/**
 * One map key for a topic partition, used wherever state is kept per partition (the purgatory,
 * the replication roles and fetchers): NUL cannot occur in a topic name, so the key is
 * unambiguous and `splitPartitionKey` inverts it.
 */
export function partitionKey (topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export function splitPartitionKey (key: string): [topic: string, partition: number] {
  const at = key.lastIndexOf('\u0000')
  return [key.slice(0, at), Number(key.slice(at + 1))]
}
