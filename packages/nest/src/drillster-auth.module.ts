import { Module } from '@nestjs/common';
import { DRILLSTER_API, DRILLSTER_AUTH } from './drillster-auth.constants.js';
import { ConfigurableModuleClass } from './drillster-auth.module-definition.js';
import { drillsterAuthProviders } from './drillster-auth.providers.js';
import { DrillsterAuthService } from './drillster-auth.service.js';

/**
 * Provides {@link DrillsterAuthService}, the core client (`DRILLSTER_AUTH`) and a Drillster API
 * client (`DRILLSTER_API`, `@InjectDrillsterApi()`).
 *
 * `DrillsterAuthModule.forRoot(options)` or `DrillsterAuthModule.forRootAsync({ imports,
 * useFactory, inject } | { useClass } | { useExisting })`; both take `isGlobal` (default `false`).
 */
@Module({
  providers: [...drillsterAuthProviders, DrillsterAuthService],
  exports: [DRILLSTER_AUTH, DRILLSTER_API, DrillsterAuthService],
})
export class DrillsterAuthModule extends ConfigurableModuleClass {}
