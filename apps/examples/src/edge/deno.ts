/**
 * A Deno script that calls the Drillster API with a service account.
 *
 *   DRILLSTER_KEY_FILE=service-account.json DRILLSTER_CLIENT_ID=… DRILLSTER_CLIENT_SECRET=… \
 *     deno run --allow-net --allow-env --allow-read src/edge/deno.ts
 */
import { createDrillsterAuth, DRILLSTER_API_BASE_URL } from '@drillster-auth/core';
import { createDrillsterFetch } from '@drillster-auth/edge';

declare const Deno: {
  env: { get(name: string): string | undefined };
  readTextFile(path: string): Promise<string>;
  exit(code: number): never;
};

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) {
    console.error(`Set ${name}`);
    Deno.exit(2);
  }
  return value;
}

const apiBaseUrl = Deno.env.get('DRILLSTER_API_BASE_URL') ?? DRILLSTER_API_BASE_URL;
const issuer = Deno.env.get('DRILLSTER_ISSUER');
const auth = createDrillsterAuth({
  key: await Deno.readTextFile(required('DRILLSTER_KEY_FILE')),
  clientId: required('DRILLSTER_CLIENT_ID'),
  clientSecret: required('DRILLSTER_CLIENT_SECRET'),
  ...(issuer ? { issuer } : {}),
});
const drillster = createDrillsterFetch({ auth, allowedOrigins: [new URL(apiBaseUrl).origin] });

const response = await drillster(new URL('user', apiBaseUrl));
const user = (await response.json()) as { name?: string };
console.log(
  JSON.stringify({
    subject: auth.serviceAccountId,
    apiStatus: response.status,
    user: user.name ?? null,
  }),
);
auth.close();
