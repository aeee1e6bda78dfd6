import { DrillsterAuthModule } from '@drillster-auth/nest';
import { DrillsterAuthHealthIndicator } from '@drillster-auth/nest/health';
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { ExampleEnvironment } from '../shared/environment.js';
import { CurrentUserGuard } from './current-user.guard.js';
import { DrillsterController } from './drillster.controller.js';
import { HealthController } from './health.controller.js';

export const EXAMPLE_ENVIRONMENT = Symbol('EXAMPLE_ENVIRONMENT');

/** The example app: Drillster auth configured once, asynchronously, for the whole app. */
@Module({})
export class AppModule {
  static register(environment: ExampleEnvironment): DynamicModule {
    const environmentProvider = { provide: EXAMPLE_ENVIRONMENT, useValue: environment };
    @Module({ providers: [environmentProvider], exports: [environmentProvider] })
    class EnvironmentModule {}
    return {
      module: AppModule,
      imports: [
        EnvironmentModule,
        TerminusModule,
        DrillsterAuthModule.forRootAsync({
          isGlobal: true,
          imports: [EnvironmentModule],
          inject: [EXAMPLE_ENVIRONMENT],
          useFactory: (env: ExampleEnvironment) => ({
            ...env.auth,
            api: { baseURL: env.apiBaseUrl },
            // The Player gets its token once, with the page: give it 15 minutes at least, enough
            // for a practice session (the default; raise it if your sessions run longer).
            widgetTokenMinValidity: 15 * 60,
          }),
        }),
      ],
      controllers: [DrillsterController, HealthController],
      providers: [CurrentUserGuard, DrillsterAuthHealthIndicator],
    };
  }
}
