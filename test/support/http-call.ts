/**
 * A small JSON client for the HTTP API tests: `call(method, path, body?, headers?)` against one
 * base URL (a path may also be an absolute URL, such as a `base_uri` the server returned).
 */
export interface HttpAnswer {
  status: number
  headers: Headers
  body: any
}

export type HttpCall = (method: string, path: string, body?: unknown,
  headers?: Record<string, string>) => Promise<HttpAnswer>

export function httpCaller (base: () => string): HttpCall {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(path.startsWith('http') ? path : base() + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined
        : typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers,
      body: text === '' ? null : JSON.parse(text) }
  }
}
