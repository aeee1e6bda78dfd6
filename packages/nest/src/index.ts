// Re-exported so that this package's types load @drillster-auth/axios, whose module augmentation
// types the API client's `drillster` request option.
export type {
  DrillsterAxiosRequestOptions,
  DrillsterRequestOptions,
} from '@drillster-auth/axios';
export {
  DEFAULT_DRILLSTER_API_BASE_URL,
  DEFAULT_WIDGET_TOKEN_MIN_VALIDITY,
  DRILLSTER_API,
  DRILLSTER_AUTH,
} from './drillster-auth.constants.js';
export { DrillsterAuthModule } from './drillster-auth.module.js';
export {
  DRILLSTER_AUTH_MODULE_OPTIONS,
  type DrillsterAuthModuleAsyncOptions,
  type DrillsterAuthModuleExtras,
  type DrillsterAuthModuleForRootOptions,
} from './drillster-auth.module-definition.js';
export { DrillsterAuthService } from './drillster-auth.service.js';
export { InjectDrillsterApi } from './inject-drillster-api.decorator.js';
export type {
  DrillsterApiOptions,
  DrillsterAuthModuleOptions,
  DrillsterAuthOptionsFactory,
  WidgetToken,
  WidgetTokenOptions,
} from './interfaces/index.js';
