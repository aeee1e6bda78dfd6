export type {
  DrillsterApiOptions,
  DrillsterAuthModuleOptions,
} from './drillster-auth-module-options.interface.js';
export type { DrillsterAuthOptionsFactory } from './drillster-auth-options-factory.interface.js';
export type { WidgetToken, WidgetTokenOptions } from './widget-token.interface.js';
