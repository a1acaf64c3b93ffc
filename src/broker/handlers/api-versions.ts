/**
 * ApiVersions: advertises exactly the APIs and versions this broker serves (derived from the
 * handler table, so nothing is advertised that has no handler). A v3 request with a malformed
 * client software name gets INVALID_REQUEST, as Kafka answers; librdkafka then retries with v0.
 * (An unknown ApiVersions version never reaches here: the connection answers it in the v0
 * layout with UNSUPPORTED_VERSION.)
 *
 * v3+: the client software name and version are recorded for the connection
 * (client-software.ts), and the answer carries the supported and finalized features
 * (features.ts).
 */
import {
  ApiVersions, CLIENT_SOFTWARE_PATTERN, type ApiVersionsRequest, type ApiVersionsResponse,
} from '../../protocol/apis/api-versions.js'
import { ERROR } from '../../protocol/errors.js'
import type { HandlerEntry } from '../broker.js'
import {
  FINALIZED_FEATURES, FINALIZED_FEATURES_EPOCH, SUPPORTED_FEATURES,
} from '../features.js'

export const apiVersionsHandler: HandlerEntry<ApiVersionsRequest, ApiVersionsResponse> = {
  api: ApiVersions,
  minVersion: 0,
  maxVersion: 4,
  async handle (broker, request, context) {
    if (context.version < 3) {
      return { errorCode: ERROR.NONE, apiKeys: broker.servedApis(), throttleTimeMs: 0 }
    }
    const name = request.clientSoftwareName ?? ''
    const version = request.clientSoftwareVersion ?? ''
    if (!CLIENT_SOFTWARE_PATTERN.test(name) || !CLIENT_SOFTWARE_PATTERN.test(version)) {
      return { errorCode: ERROR.INVALID_REQUEST, apiKeys: [], throttleTimeMs: 0 }
    }
    broker.clientSoftware.record(context.connectionId, { name, version }, context.signal)
    return {
      errorCode: ERROR.NONE,
      apiKeys: broker.servedApis(),
      throttleTimeMs: 0,
      supportedFeatures: [...SUPPORTED_FEATURES],
      finalizedFeaturesEpoch: FINALIZED_FEATURES_EPOCH,
      finalizedFeatures: [...FINALIZED_FEATURES],
    }
  },
}
