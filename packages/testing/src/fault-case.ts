import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { FAULT_MATRIX_CLIENT_OPTIONS, type FaultCase } from './fault-matrix.js';
import { expectNoLeaks } from './leaks.js';
import type { MockProvision, RunningMockDrillster } from './node.js';

/** Client options for one fault case: the matrix's, plus recorders for what the leak scan needs. */
export interface FaultCaseClientOptions {
  /** Per request, in milliseconds ({@link FAULT_MATRIX_CLIENT_OPTIONS}). */
  timeout: number;
  /** The matrix's retry policy ({@link FAULT_MATRIX_CLIENT_OPTIONS}). */
  retry: { attempts: number; baseDelay: number; maxDelay: number };
  /** Records every event, each scanned for secrets after the call. */
  onEvent: (event: { type: string }) => void;
  /** `fetch` that records the assertions sent, so the leak scan looks for each. */
  fetch: typeof fetch;
}

/** How an adapter takes part in {@link runFaultCase}. */
export interface FaultCaseAdapter<T> {
  /**
   * Creates the client (or module) with `options` spread into its client options; returns the
   * one call to make and how to tear down. Faults are injected after this and before `call`.
   */
  setUp(
    options: FaultCaseClientOptions,
  ): Promise<{ call: () => Promise<T>; close: () => void | Promise<void> }>;
  /**
   * Checks an answer when the case expects a token. Returns the access token used (added to the
   * secrets the events are scanned for) and any token requests beyond the case's (axios' 401
   * retry after a token the API refuses).
   *
   * @param secrets - Client secret, private key and each assertion sent, for the adapter's scans.
   */
  checkAnswer(
    value: T,
    secrets: Record<string, string | undefined>,
  ): Promise<{ accessToken: string; extraTokenRequests?: number }>;
  /** Adapter checks of a failure beyond the common ones (its class, no API request made…). */
  checkError?(error: unknown): void;
}

/** Time and memory bound of a case: huge bodies are refused as they stream in, not buffered. */
const MAX_CASE_MS = 20_000;
const MAX_RSS_GROWTH = 96 * 1024 * 1024;

/**
 * Runs one {@link FaultCase} through an adapter: sets it up, injects the case's faults into the
 * mock, makes the one call, and checks what every adapter must show: the outcome (a token, or a
 * typed error with the case's `code` and `status` that prints without throwing), exactly the
 * case's token and metadata requests, no secret in the error or any event, within 20 s and
 * 96 MiB of RSS, no unhandled rejection, and no timer left running once `close` has run.
 * Throws (`node:assert`) on the first check that fails. Node only: it reads the process's timers.
 *
 * @param server - The running mock; its faults are cleared and its stats reset first.
 * @param provision - Client and account the case uses (`authOptions` go into `setUp`'s client).
 */
export async function runFaultCase<T>(
  server: RunningMockDrillster,
  provision: MockProvision,
  fault: FaultCase,
  adapter: FaultCaseAdapter<T>,
): Promise<void> {
  server.mock.clearFaults();
  server.mock.resetStats();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const events: { type: string }[] = [];
    const assertions: string[] = [];
    // Before setUp: what setting up starts, closing must stop.
    const timersBefore = timers();
    const { call, close } = await adapter.setUp({
      ...FAULT_MATRIX_CLIENT_OPTIONS,
      retry: { ...FAULT_MATRIX_CLIENT_OPTIONS.retry },
      onEvent: (event) => events.push(event),
      fetch: recordingFetch(assertions),
    });
    for (const injected of fault.faults()) server.mock.injectFault(injected);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();

    const outcome = await call().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );

    const elapsed = performance.now() - started;
    const grown = process.memoryUsage().rss - rssBefore;
    const secrets: Record<string, string | undefined> = {
      clientSecret: provision.client.clientSecret,
      privateKey: provision.account.keyFile.privateKey,
    };
    assertions.forEach((assertion, i) => {
      secrets[`assertion ${i + 1}`] = assertion;
    });
    let tokenRequests = fault.tokenRequests;
    if (fault.expect.token) {
      if (!('value' in outcome)) assert.fail(`expected a token, got ${describe(outcome)}`);
      const checked = await adapter.checkAnswer(outcome.value, secrets);
      tokenRequests += checked.extraTokenRequests ?? 0;
      secrets.accessToken = checked.accessToken;
    } else {
      assert.ok('error' in outcome, `expected ${fault.expect.code}, got an answer`);
      const error = outcome.error as { code?: unknown; status?: unknown };
      assert.equal(error.code, fault.expect.code);
      if (fault.expect.status !== undefined) assert.equal(error.status, fault.expect.status);
      assert.doesNotThrow(() => [
        String(error),
        inspect(error, { showHidden: true, getters: true }),
      ]);
      adapter.checkError?.(outcome.error);
      expectNoLeaks(outcome.error, secrets, 'the error');
    }
    assert.equal(server.mock.stats.tokenRequests, tokenRequests, 'token requests');
    assert.equal(
      server.mock.stats.metadataRequests,
      fault.metadataRequests ?? 1,
      'metadata requests',
    );
    for (const event of events) expectNoLeaks(event, secrets, `the ${event.type} event`);
    assert.ok(elapsed < MAX_CASE_MS, `took ${Math.round(elapsed)} ms`);
    assert.ok(grown < MAX_RSS_GROWTH, `RSS grew by ${Math.round(grown / 1024 / 1024)} MiB`);

    await close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(timers() <= timersBefore, 'a timer was left running');
    assert.deepEqual(unhandled, [], 'unhandled rejections');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    server.mock.clearFaults();
  }
}

/** Timers the process holds; what a call leaves behind shows as growth. */
function timers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

/** The assertions actually sent, read off the wire. */
function recordingFetch(assertions: string[]): typeof fetch {
  return async (input, init) => {
    if (typeof init?.body === 'string') {
      const assertion = new URLSearchParams(init.body).get('assertion');
      if (assertion !== null) assertions.push(assertion);
    }
    return fetch(input, init);
  };
}

/** An outcome for a failure message; an error by its code only (its message may quote a fault). */
function describe(outcome: { error: unknown }): string {
  const code = (outcome.error as { code?: unknown } | undefined)?.code;
  return `an error (${String(code)})`;
}
