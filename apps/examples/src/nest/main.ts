/**
 * A Nest app that calls the Drillster API through DI, mints widget tokens for its users and
 * answers a terminus health check (`/health`) through DrillsterAuthHealthIndicator.
 *
 *   pnpm --filter @drillster-auth/examples exec tsx src/nest/main.ts   # then open http://127.0.0.1:3000/me
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type ExampleEnvironment,
  type ExampleReport,
  exampleEnvironment,
} from '../shared/environment.js';
import { runDirectly } from '../shared/run-directly.js';
import { AppModule } from './app.module.js';

export async function createApp(environment: ExampleEnvironment): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.register(environment), {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  return app;
}

export async function nestExample(environment: ExampleEnvironment): Promise<ExampleReport> {
  const app = await createApp(environment);
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  try {
    const me = await fetch(`${base}/me`);
    await me.arrayBuffer();
    const health = await fetch(`${base}/health`);
    const healthy = ((await health.json()) as { status?: string }).status === 'ok';
    const anonymous = await fetch(`${base}/widget-token`);
    await anonymous.arrayBuffer();
    const user = environment.managedUserId;
    if (user === '') {
      return {
        example: 'nest',
        subject: 'service account',
        tokenObtained: me.status === 200 && healthy,
        apiStatus: me.status,
        detail: `GET /me → ${me.status}; /health → ${health.status}; widget token skipped (set DRILLSTER_MANAGED_USER); unauthenticated → ${anonymous.status}`,
      };
    }
    const widgetToken = await fetch(`${base}/widget-token`, { headers: { 'x-demo-user': user } });
    const { token, expiresAt } = (await widgetToken.json()) as {
      token?: string;
      expiresAt?: number;
    };
    // The app asks for widgetTokenMinValidity (15 minutes) so a learner's session outlives it.
    const lastsASession = typeof expiresAt === 'number' && expiresAt - Date.now() >= 15 * 60_000;
    const page = await fetch(`${base}/widget`, { headers: { 'x-demo-user': user } });
    const html = await page.text();
    const embedded =
      typeof token === 'string' && html.includes('class="drl-widget drl-player" drl-token="');
    return {
      example: 'nest',
      subject: user,
      tokenObtained: widgetToken.status === 200 && embedded && lastsASession && healthy,
      apiStatus: me.status,
      detail: `GET /me → ${me.status}; /health → ${health.status}; /widget-token → ${widgetToken.status}${lastsASession ? '' : ' with under 15 minutes left'}; /widget page ${embedded ? 'embeds the player' : 'is missing the player'}; unauthenticated → ${anonymous.status}`,
    };
  } finally {
    await app.close();
  }
}

runDirectly(import.meta.url, async () => {
  const environment = await exampleEnvironment();
  const app = await createApp(environment);
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`Listening on ${await app.getUrl()} (Drillster: ${environment.target})`);
});
