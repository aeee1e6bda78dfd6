import { Inject } from '@nestjs/common';
import { DRILLSTER_API } from './drillster-auth.constants.js';

/**
 * Injects the module's Drillster API client: an `AxiosInstance` with `baseURL` set that adds
 * the service account's token to each request and retries a 401 once with a new token.
 * Per request, `{ drillster: { subject } }` acts for a managed user.
 */
export const InjectDrillsterApi = (): PropertyDecorator & ParameterDecorator =>
  Inject(DRILLSTER_API);
