/**
 * WriteTxnMarkers (key 27, KIP-98). Codec versions 0-1, flexible from 1. Sent by the
 * transaction coordinator to partition leaders (broker to broker), never by clients.
 *
 * Version history (Kafka's WriteTxnMarkersRequest.json / ...Response.json):
 *   v1 is flexible (KIP-482).
 *
 * Request grammar:
 *   markers array[producer_id int64, producer_epoch int16, transaction_result bool,
 *   topics array[name string, partition_indexes array[int32], (tags v1)],
 *   coordinator_epoch int32, (tags v1)], (tags v1)
 * Response grammar:
 *   markers array[producer_id int64, topics array[name string, partitions array[
 *   partition_index int32, error_code int16, (tags v1)], (tags v1)], (tags v1)], (tags v1)
 */
import { defineApi } from '../schema.js'

export interface WritableTxnMarker {
  producerId: number
  producerEpoch: number
  /** true = commit, false = abort. */
  transactionResult: boolean
  topics: { name: string, partitionIndexes: number[] }[]
  coordinatorEpoch: number
}

export interface WriteTxnMarkersRequest {
  markers: WritableTxnMarker[]
}

export interface WriteTxnMarkersResponse {
  markers: { producerId: number, topics: { name: string,
    partitions: { partitionIndex: number, errorCode: number }[] }[] }[]
}

export const WriteTxnMarkers = defineApi<WriteTxnMarkersRequest, WriteTxnMarkersResponse>({
  key: 27,
  name: 'WriteTxnMarkers',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: [
    {
      name: 'markers',
      type: [
        { name: 'producerId', type: 'int64', versions: [0] },
        { name: 'producerEpoch', type: 'int16', versions: [0] },
        { name: 'transactionResult', type: 'bool', versions: [0] },
        {
          name: 'topics',
          type: [
            { name: 'name', type: 'string', versions: [0] },
            { name: 'partitionIndexes', type: { items: 'int32' }, versions: [0] },
          ],
          versions: [0],
        },
        { name: 'coordinatorEpoch', type: 'int32', versions: [0] },
      ],
      versions: [0],
    },
  ],
  response: [
    {
      name: 'markers',
      type: [
        { name: 'producerId', type: 'int64', versions: [0] },
        {
          name: 'topics',
          type: [
            { name: 'name', type: 'string', versions: [0] },
            {
              name: 'partitions',
              type: [
                { name: 'partitionIndex', type: 'int32', versions: [0] },
                { name: 'errorCode', type: 'int16', versions: [0] },
              ],
              versions: [0],
            },
          ],
          versions: [0],
        },
      ],
      versions: [0],
    },
  ],
  // Kafka's WriteTxnMarkersRequest.getErrorResponse: the error for every partition of
  // every marker.
  errorEcho: {
    markers: { from: 'markers', each: {
      producerId: 'producerId',
      topics: { from: 'topics', each: {
        name: 'name', partitions: { from: 'partitionIndexes', each: 'partitionIndex' },
      } },
    } },
  },
})
