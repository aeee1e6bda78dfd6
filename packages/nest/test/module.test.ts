import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AxiosInstance } from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DRILLSTER_API,
  DRILLSTER_AUTH,
  DrillsterAuthModule,
  type DrillsterAuthModuleOptions,
  type DrillsterAuthOptionsFactory,
  DrillsterAuthService,
  InjectDrillsterApi,
} from '../src/index.js';
import { type Fixture, startFixture } from './fixture.js';

let fixture: Fixture;
let app: TestingModule | undefined;

beforeAll(async () => {
  fixture = await startFixture();
});

afterEach(async () => {
  await app?.close();
  app = undefined;
});

afterAll(async () => {
  await fixture.server.close();
});

/** Compiles a testing module around `imports` and keeps it for closing after the test. */
async function compile(
  imports: NonNullable<Parameters<typeof Module>[0]['imports']>,
  providers: any[] = [],
) {
  app = await Test.createTestingModule({ imports, providers }).compile();
  await app.init();
  return app;
}

/** Proves a module works end to end: a token the mock accepts, and the API client answering. */
async function expectWorking(module: TestingModule) {
  const service = module.get(DrillsterAuthService);
  const token = await service.getAccessToken();
  expect(await fixture.server.mock.verifyAccessToken(token.accessToken)).toMatchObject({
    subject: fixture.account.serviceAccountId,
  });
  const api = module.get<AxiosInstance>(DRILLSTER_API);
  expect((await api.get('user')).data).toMatchObject({ id: fixture.account.serviceAccountId });
  expect(module.get(DRILLSTER_AUTH)).toBe(service.client);
}

@Injectable()
class DrillsterConfig implements DrillsterAuthOptionsFactory {
  static calls = 0;
  createDrillsterAuthOptions(): DrillsterAuthModuleOptions {
    DrillsterConfig.calls += 1;
    return fixture.options;
  }
}

@Module({ providers: [DrillsterConfig], exports: [DrillsterConfig] })
class DrillsterConfigModule {}

@Injectable()
class Consumer {
  constructor(
    readonly service: DrillsterAuthService,
    @InjectDrillsterApi() readonly api: AxiosInstance,
  ) {}
}

/** A feature module that does not import DrillsterAuthModule itself. */
@Module({ providers: [Consumer], exports: [Consumer] })
class FeatureModule {}

describe('DrillsterAuthModule', () => {
  it('forRoot provides the service, the core client and the API client', async () => {
    await expectWorking(await compile([DrillsterAuthModule.forRoot(fixture.options)]));
  });

  it('forRoot passes isGlobal on and leaves it out of the client options', () => {
    const definition = DrillsterAuthModule.forRoot({ ...fixture.options, isGlobal: true });
    expect(definition.global).toBe(true);
    const options = definition.providers?.find((p: any) => p.useValue !== undefined) as any;
    expect(options.useValue).not.toHaveProperty('isGlobal');
  });

  it('forRootAsync with useFactory and inject reads ConfigService', async () => {
    const { key, clientId, clientSecret, issuer } = fixture.options;
    const module = await compile([
      DrillsterAuthModule.forRootAsync({
        imports: [
          ConfigModule.forRoot({
            ignoreEnvFile: true,
            load: [() => ({ drillster: { key, clientId, clientSecret, issuer } })],
          }),
        ],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          ...config.getOrThrow('drillster'),
          retry: false,
          api: { baseURL: fixture.server.apiBaseUrl },
        }),
      }),
    ]);
    await expectWorking(module);
  });

  it('forRootAsync with useClass', async () => {
    DrillsterConfig.calls = 0;
    const module = await compile([DrillsterAuthModule.forRootAsync({ useClass: DrillsterConfig })]);
    await expectWorking(module);
    expect(DrillsterConfig.calls).toBe(1);
  });

  it('forRootAsync with useExisting reuses the imported provider', async () => {
    DrillsterConfig.calls = 0;
    const module = await compile([
      DrillsterAuthModule.forRootAsync({
        imports: [DrillsterConfigModule],
        useExisting: DrillsterConfig,
      }),
    ]);
    await expectWorking(module);
    expect(DrillsterConfig.calls).toBe(1);
  });

  describe.each([
    [
      'forRoot',
      (isGlobal?: boolean) => DrillsterAuthModule.forRoot({ ...fixture.options, isGlobal }),
    ],
    [
      'forRootAsync',
      (isGlobal?: boolean) =>
        DrillsterAuthModule.forRootAsync({ useFactory: () => fixture.options, isGlobal }),
    ],
  ])('%s isGlobal', (_, register) => {
    it('true makes the providers visible to modules that do not import it', async () => {
      const module = await compile([register(true), FeatureModule]);
      const consumer = module.get(Consumer);
      expect(consumer.service).toBeInstanceOf(DrillsterAuthService);
      expect((await consumer.api.get('user')).data).toMatchObject({
        id: fixture.account.serviceAccountId,
      });
    });

    it.each([false, undefined])('%s keeps them to importing modules', async (isGlobal) => {
      await expect(compile([register(isGlobal), FeatureModule])).rejects.toThrow(
        /can't resolve dependencies of the Consumer/,
      );
    });
  });

  it('fails at bootstrap with the core error code when the key is unusable', async () => {
    await expect(
      compile([DrillsterAuthModule.forRoot({ ...fixture.options, key: '{"privateKey":1}' })]),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_KEY_FILE_/) });
  });

  it('uses Drillster API base URL by default', async () => {
    const { api: _, ...options } = fixture.options;
    const module = await compile([DrillsterAuthModule.forRoot(options)]);
    expect(module.get<AxiosInstance>(DRILLSTER_API).defaults.baseURL).toBe(
      'https://www.drillster.com/api/2.1.1/',
    );
  });

  it('exposes the injection tokens to @Inject', async () => {
    @Injectable()
    class ByToken {
      constructor(@Inject(DRILLSTER_AUTH) readonly auth: unknown) {}
    }
    const module = await compile([DrillsterAuthModule.forRoot(fixture.options)], [ByToken]);
    expect(module.get(ByToken).auth).toBe(module.get(DrillsterAuthService).client);
  });
});
