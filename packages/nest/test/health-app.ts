import { Controller, Get, type INestApplication, Inject } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  TerminusModule,
} from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { DrillsterAuthHealthIndicator } from '../src/health/index.js';
import { DrillsterAuthModule, type DrillsterAuthModuleOptions } from '../src/index.js';

/** The timeout the app's check passes to the indicator, in milliseconds; 0 for the default. */
let checkTimeout = 0;

@Controller('health')
class HealthController {
  constructor(
    // Named: Biome turns imports used only as types into `import type`, which erases the metadata.
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(DrillsterAuthHealthIndicator) private readonly drillster: DrillsterAuthHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.drillster.isHealthy('drillster', checkTimeout ? { timeout: checkTimeout } : {}),
    ]);
  }
}

/** A health response as the app sent it: the status and the body's text, for the leak scan. */
export interface HealthResponse {
  status: number;
  text: string;
  body: HealthCheckResult;
}

/** A real Nest app on loopback with terminus, the module and the indicator, as a user sets it up. */
export async function startHealthApp(
  options: DrillsterAuthModuleOptions,
  timeout = 0,
): Promise<{ app: INestApplication; health: () => Promise<HealthResponse> }> {
  checkTimeout = timeout;
  const moduleRef = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false }), DrillsterAuthModule.forRoot(options)],
    controllers: [HealthController],
    providers: [DrillsterAuthHealthIndicator],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const url = `${await app.getUrl()}/health`;
  return {
    app,
    health: async () => {
      const response = await fetch(url);
      const text = await response.text();
      return { status: response.status, text, body: JSON.parse(text) as HealthCheckResult };
    },
  };
}
