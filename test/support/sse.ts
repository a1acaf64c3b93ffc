/**
 * Reads the first `count` `record` events of a server-sent-event stream (the HTTP API's
 * `/stream` routes), then closes it. A stream that ends or fails before that many rejects, so
 * a test fails at once instead of waiting for its timeout.
 */
import http from 'node:http'

export interface SseRecord {
  /** The event's `id:` (`partition:offset`). */
  id: string | undefined
  /** Its `data:`, parsed as JSON. */
  data: any
}

export function sseRecords (url: string, count: number): Promise<SseRecord[]> {
  return new Promise((resolve, reject) => {
    const records: SseRecord[] = []
    const request = http.get(url, response => {
      let text = ''
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        let end
        while ((end = text.indexOf('\n\n')) >= 0) {
          const event = text.slice(0, end)
          text = text.slice(end + 2)
          const data = /^data: (.*)$/m.exec(event)
          if (/^event: record$/m.test(event) && data !== null) {
            records.push({ id: /^id: (\S+)$/m.exec(event)?.[1],
              data: JSON.parse(data[1] as string) })
          }
        }
        if (records.length >= count) {
          request.destroy()
          resolve(records.slice(0, count))
        }
      })
      response.on('end', () => {
        reject(new Error(`${url}: the stream ended after ${records.length} of ${count} ` +
          `records (status ${response.statusCode ?? 0})`))
      })
    })
    request.on('error', reject)
  })
}
