import { createDrillsterAuth, DrillsterAuthError } from '@drillster-auth/core';
import type { Command } from '../command.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, resolveAuthOptions } from '../config.js';
import { CHECKS, CLOCK_TOLERANCE_MS, type DoctorContext, Skip } from '../doctor/checks.js';
import { CliError } from '../errors.js';
import { exitCodeFor } from '../exit-codes.js';
import type { Secrets } from '../secrets.js';
import { escapeControl } from '../terminal.js';

/** One line of the report. */
interface CheckResult {
  check: string;
  title: string;
  status: 'ok' | 'failed' | 'skipped';
  /** Milliseconds the check took; absent for a check that did not run. */
  ms?: number;
  detail: string;
  /** On failure: the error code, the likely cause and what to do. */
  code?: string;
  cause?: string;
  fix?: string;
}

/** `drillster-auth doctor`: checks the configuration `token` uses, step by step. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check the configuration step by step: key, issuer, clock, credentials, API',
  help: `Usage: drillster-auth doctor [--subject ID] [--json] [configuration]

Checks, in order, what drillster-auth token needs, with the same configuration, and prints
one line per check: ✓ or ✗ (- when skipped), the time it took, what it found, and for a
failure the most likely cause and what to do. The checks after a failed one are skipped.

  key file          shape, key type and size, JWK thumbprint; each key of a list (repeated
                    --key-file), all of one service account
  issuer metadata   reachable, names the configured issuer and a token endpoint
                    (skipped with --token-endpoint)
  clock             skew against the server's Date header; fails beyond ${CLOCK_TOLERANCE_MS / 1000} s
  token             a token for the service account (client id, secret and key together);
                    names a listed key that was refused while a later one signed
  API               GET /api/2.1.1/user with that token: which account it is
  subject           with --subject, a token for that managed user, and who it is

The report goes to stdout, also when a check fails; the exit code is then the failed
check's (see drillster-auth --help), and stderr's last line the usual error line. No
secret, token or assertion is ever printed.

Options:
  --subject ID   Also get a token for this managed user (id, email or third-party id).
  --json         One JSON object instead of the table:
                 {"ok","exitCode","checks":[{"check","title","status","ms","detail",
                 "code","cause","fix"}]}
  -h, --help     Show this help.

${CONNECTION_HELP}`,

  options: {
    ...CONNECTION_OPTIONS,
    subject: { type: 'string' },
    json: { type: 'boolean' },
  },

  async run(parsed, { io, secrets }) {
    const subject = typeof parsed.values.subject === 'string' ? parsed.values.subject : undefined;
    const context = await loadContext(parsed, io, secrets, subject);
    const results: CheckResult[] = [];
    let failure: unknown;
    try {
      for (const check of CHECKS) {
        if (failure !== undefined) {
          results.push(skipped(check, 'an earlier check failed'));
          continue;
        }
        const started = performance.now();
        try {
          const outcome = await check.run(context);
          if (outcome instanceof Skip) {
            results.push(skipped(check, outcome.reason));
            continue;
          }
          results.push({ ...named(check), status: 'ok', ms: since(started), detail: outcome });
        } catch (error) {
          failure = error;
          const { cause, fix } = check.diagnose(error, context);
          results.push({
            ...named(check),
            status: 'failed',
            ms: since(started),
            detail: describe(error),
            code: codeOf(error),
            cause,
            fix,
          });
        }
      }
    } finally {
      context.client?.close();
    }
    if (context.token !== undefined) secrets.add(context.token.accessToken);
    const exitCode = failure === undefined ? 0 : exitCodeFor(failure);
    io.stdout.write(
      parsed.values.json === true
        ? `${jsonSafe(secrets.redact(JSON.stringify({ ok: failure === undefined, exitCode, checks: results })))}\n`
        : table(results, exitCode, secrets),
    );
    if (failure !== undefined) throw failure;
    return 0;
  },
};

/**
 * The configuration `token` would use. An unreadable key file is the first check's failure;
 * anything else wrong with the configuration (a missing client id…) stops the doctor at once,
 * as it stops `token`.
 */
async function loadContext(
  parsed: Parameters<typeof resolveAuthOptions>[0],
  io: Parameters<typeof resolveAuthOptions>[1],
  secrets: Secrets,
  subject: string | undefined,
): Promise<DoctorContext> {
  const context: Omit<DoctorContext, 'options' | 'openClient'> = {
    rejectedKeys: [],
    ...(subject ? { subject } : {}),
  };
  try {
    const options = await resolveAuthOptions(parsed, io, secrets, true);
    return {
      ...context,
      options,
      openClient: (onEvent) => createDrillsterAuth({ ...options, onEvent }),
    };
  } catch (error) {
    if (!(error instanceof CliError) || error.code !== 'ERR_KEY_FILE_READ') throw error;
    return {
      ...context,
      options: {} as DoctorContext['options'],
      keyReadError: error,
      openClient: () => {
        throw error;
      },
    };
  }
}

function named(check: { id: string; title: string }) {
  return { check: check.id, title: check.title };
}

function since(started: number): number {
  return Math.round(performance.now() - started);
}

function skipped(check: { id: string; title: string }, reason: string): CheckResult {
  return { ...named(check), status: 'skipped', detail: `skipped: ${reason}` };
}

function codeOf(error: unknown): string {
  return error instanceof DrillsterAuthError || error instanceof CliError
    ? error.code
    : 'ERR_UNEXPECTED';
}

/** The error in one line; a refusal leads with the server's OAuth error code. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message.replace(/\s*\n\s*/g, ' ') : String(error);
  const oauth = (error as { error?: unknown }).error;
  return typeof oauth === 'string' && !message.includes(oauth) ? `${oauth}: ${message}` : message;
}

const MARK = { ok: '✓', failed: '✗', skipped: '-' } as const;

/** The table: scrubbed of secrets, then of control characters (server text is in it). */
function table(results: CheckResult[], exitCode: number, secrets: Secrets): string {
  const width = Math.max(...results.map((result) => result.title.length));
  const indent = ' '.repeat(2 + width + 2 + 8 + 2);
  const lines: string[] = [];
  for (const result of results) {
    const ms = result.ms === undefined ? '' : `${result.ms} ms`;
    lines.push(
      `${MARK[result.status]} ${result.title.padEnd(width)}  ${ms.padStart(8)}  ${result.detail}${result.code ? ` (${result.code})` : ''}`,
    );
    if (result.cause !== undefined) lines.push(`${indent}likely cause: ${result.cause}`);
    if (result.fix !== undefined) lines.push(`${indent}what to do:   ${result.fix}`);
  }
  const failed = results.filter((result) => result.status === 'failed');
  const ran = results.filter((result) => result.status !== 'skipped').length;
  lines.push(
    '',
    failed.length === 0
      ? `All ${ran} checks passed.`
      : `${failed[0]!.title} failed; exit code ${exitCode}.`,
  );
  return `${lines.map((line) => escapeControl(secrets.redact(line))).join('\n')}\n`;
}

/** JSON text with the characters a terminal acts on written as `\u` escapes (still valid JSON). */
function jsonSafe(text: string): string {
  return text.replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
