import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DrillsterAuthModuleOptions } from './interfaces/index.js';

/** Module options not passed to the client. */
export interface DrillsterAuthModuleExtras {
  /** Make the module's providers injectable everywhere without importing it. Default `false`. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: DRILLSTER_AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DrillsterAuthModuleOptions>({ moduleName: 'DrillsterAuth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDrillsterAuthOptions')
  .setExtras<DrillsterAuthModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** What `DrillsterAuthModule.forRoot` takes: the module options plus `isGlobal`. */
export type DrillsterAuthModuleForRootOptions = typeof OPTIONS_TYPE;

/** What `DrillsterAuthModule.forRootAsync` takes: `imports`, `useFactory` + `inject`, `useClass` or `useExisting`, and `isGlobal`. */
export type DrillsterAuthModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
