/**
 * ApiVersions: advertises exactly the APIs and versions this broker serves (derived from the
 * handler table, so nothing is advertised that has no handler). A v3 request with a malformed
 * client software name gets INVALID_REQUEST, as Kafka answers; librdkafka then retries with v0.
 * (An unknown ApiVersions version never reaches here: the connection answers it in the v0
 * layout with UNSUPPORTED_VERSION.)
 */
import {
  ApiVersions, CLIENT_SOFTWARE_PATTERN, type ApiVersionsRequest, type ApiVersionsResponse,
} from '../../protocol/apis/api-versions.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'

export const apiVersionsHandler: HandlerEntry<ApiVersionsRequest, ApiVersionsResponse> = {
  api: ApiVersions,
  minVersion: 0,
  maxVersion: 3,
  async handle (broker, request, context) {
    if (context.version >= 3 && (
      !CLIENT_SOFTWARE_PATTERN.test(request.clientSoftwareName ?? '') ||
      !CLIENT_SOFTWARE_PATTERN.test(request.clientSoftwareVersion ?? ''))) {
      return { errorCode: ERROR.INVALID_REQUEST, apiKeys: [], throttleTimeMs: 0 }
    }
    return { errorCode: ERROR.NONE, apiKeys: broker.servedApis(), throttleTimeMs: 0 }
  },
}
