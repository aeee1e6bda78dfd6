export type {
  DrillsterApiOptions,
  DrillsterAuthModuleOptions,
} from './drillster-auth-module-options.interface.js';
export type { DrillsterAuthOptionsFactory } from './drillster-auth-options-factory.interface.js';
export type { WidgetToken } from './widget-token.interface.js';
