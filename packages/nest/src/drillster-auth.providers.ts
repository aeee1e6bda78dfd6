import { attachDrillsterAuth } from '@drillster-auth/axios';
import {
  createDrillsterAuth,
  DRILLSTER_API_BASE_URL,
  type DrillsterAuth,
} from '@drillster-auth/core';
import type { Provider } from '@nestjs/common';
import axios, { type AxiosInstance } from 'axios';
import {
  DRILLSTER_API,
  DRILLSTER_API_BINDING,
  DRILLSTER_AUTH,
} from './drillster-auth.constants.js';
import { DRILLSTER_AUTH_MODULE_OPTIONS } from './drillster-auth.module-definition.js';
import type { DrillsterAuthModuleOptions } from './interfaces/index.js';

/** The API client and how to undo what was done to it. */
export interface DrillsterApiBinding {
  api: AxiosInstance;
  detach: () => void;
}

export const drillsterAuthProviders: Provider[] = [
  {
    provide: DRILLSTER_AUTH,
    useFactory: ({
      api: _api,
      widgetTokenMinValidity: _widget,
      ...options
    }: DrillsterAuthModuleOptions): DrillsterAuth => createDrillsterAuth(options),
    inject: [DRILLSTER_AUTH_MODULE_OPTIONS],
  },
  {
    provide: DRILLSTER_API_BINDING,
    useFactory: (options: DrillsterAuthModuleOptions, auth: DrillsterAuth): DrillsterApiBinding => {
      const api = axios.create({
        ...options.api?.axios,
        baseURL: options.api?.baseURL ?? options.api?.axios?.baseURL ?? DRILLSTER_API_BASE_URL,
      });
      const allowedOrigins = options.api?.allowedOrigins;
      const detach = attachDrillsterAuth(api, auth, allowedOrigins ? { allowedOrigins } : {});
      return { api, detach };
    },
    inject: [DRILLSTER_AUTH_MODULE_OPTIONS, DRILLSTER_AUTH],
  },
  {
    provide: DRILLSTER_API,
    useFactory: (binding: DrillsterApiBinding): AxiosInstance => binding.api,
    inject: [DRILLSTER_API_BINDING],
  },
];
