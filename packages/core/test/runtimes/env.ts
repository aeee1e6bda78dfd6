/** The JavaScript runtimes the shared suite runs under. */
export type Runtime = 'workerd' | 'deno' | 'bun' | 'node';

/** What a runner hands the suite: where the mock server is and the credentials it provisioned. */
export interface SuiteEnv {
  /** The mock server's issuer; discovery starts here. */
  issuer: string;
  /** The token endpoint the issuer's metadata should name. */
  tokenEndpoint: string;
  /** The service account's JSON key file, as text. */
  keyFile: string;
  clientId: string;
  clientSecret: string;
  /** A user the service account manages. */
  managedUserId: string;
  /** `…/api/2.1.1/`, with the trailing slash. */
  apiBaseUrl: string;
  /** The runtime the runner believes it is; the suite checks it. */
  runtime: Runtime;
}

/** The runtime this code is running in, from the globals each one has. */
export function detectRuntime(): Runtime {
  const global = globalThis as Record<string, unknown>;
  if (typeof global.Deno === 'object') return 'deno';
  if (typeof global.Bun === 'object') return 'bun';
  const navigator = global.navigator as { userAgent?: string } | undefined;
  if (navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  return 'node';
}
