export { attachDrillsterAuth } from './attach.js';
export { createDrillsterInterceptors, type DrillsterInterceptors } from './interceptors.js';
export {
  DRILLSTER_API_ORIGIN,
  type DrillsterAxiosOptions,
  type DrillsterAxiosRequestOptions,
  type DrillsterRequestOptions,
} from './options.js';
