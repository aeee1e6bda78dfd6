// An ESM Nest app using the published entry point (self-reference resolves to dist/index.js).

import { DRILLSTER_API, DrillsterAuthModule, DrillsterAuthService } from '@drillster-auth/nest';
import { startMockDrillster } from '@drillster-auth/testing/node';
import { NestFactory } from '@nestjs/core';

const server = await startMockDrillster();
try {
  const { account, managedUser: user, authOptions } = await server.provision();
  const app = await NestFactory.createApplicationContext(
    DrillsterAuthModule.forRoot({ ...authOptions, api: { baseURL: server.apiBaseUrl } }),
    { logger: false },
  );
  const me = await app.get(DRILLSTER_API).get('user');
  const widget = await app.get(DrillsterAuthService).getWidgetToken(user.userId);
  const verified = await server.mock.verifyAccessToken(widget.token);
  await app.close();
  process.stdout.write(
    JSON.stringify({
      entry: import.meta.resolve('@drillster-auth/nest'),
      apiUser: me.data.id === account.serviceAccountId,
      widgetUser: verified?.subject === user.userId,
    }),
  );
} finally {
  await server.close();
}
