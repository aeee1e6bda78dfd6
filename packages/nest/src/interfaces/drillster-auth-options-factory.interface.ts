import type { DrillsterAuthModuleOptions } from './drillster-auth-module-options.interface.js';

/** A class for `DrillsterAuthModule.forRootAsync({ useClass })` or `{ useExisting }`. */
export interface DrillsterAuthOptionsFactory {
  createDrillsterAuthOptions(): DrillsterAuthModuleOptions | Promise<DrillsterAuthModuleOptions>;
}
