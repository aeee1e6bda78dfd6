// A CommonJS Nest app using the published entry point (self-reference resolves to dist/index.cjs).
const { NestFactory } = require('@nestjs/core');
const {
  DRILLSTER_API,
  DrillsterAuthModule,
  DrillsterAuthService,
} = require('@drillster-auth/nest');
const { startMockDrillster } = require('@drillster-auth/testing/node');

async function main() {
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
        entry: require.resolve('@drillster-auth/nest'),
        apiUser: me.data.id === account.serviceAccountId,
        widgetUser: verified?.subject === user.userId,
      }),
    );
  } finally {
    await server.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
