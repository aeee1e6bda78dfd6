import { DrillsterAuthModule } from '@drillster-auth/nest';
import { type DynamicModule, Module } from '@nestjs/common';
import type { ExampleEnvironment } from '../shared/environment.js';
import { CurrentUserGuard } from './current-user.guard.js';
import { DrillsterController } from './drillster.controller.js';

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
        DrillsterAuthModule.forRootAsync({
          isGlobal: true,
          imports: [EnvironmentModule],
          inject: [EXAMPLE_ENVIRONMENT],
          useFactory: (env: ExampleEnvironment) => ({
            ...env.auth,
            api: { baseURL: env.apiBaseUrl },
          }),
        }),
      ],
      controllers: [DrillsterController],
      providers: [CurrentUserGuard],
    };
  }
}
