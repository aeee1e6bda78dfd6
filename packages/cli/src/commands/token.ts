import {
  type AccessToken,
  authorizationHeader,
  createDrillsterAuth,
  type DrillsterAuth,
} from '@drillster-auth/core';
import { type OpenTokenCache, openTokenCache } from '../cache.js';
import type { Command } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  ENV,
  nonEmpty,
  resolveAuthOptions,
} from '../config.js';
import { CliError } from '../errors.js';

const FORMATS = ['raw', 'json', 'header'] as const;
type Format = (typeof FORMATS)[number];

/** `drillster-auth token`: prints an access token. */
export const tokenCommand: Command = {
  name: 'token',
  summary: 'Print an access token for the service account or a managed user',
  help: `Usage: drillster-auth token [--subject ID] [--format raw|json|header] [configuration]

Gets an access token with the service account key (OAuth 2.0 JWT bearer grant) and prints
it on stdout, followed by a newline, so that TOKEN="$(drillster-auth token)" works.

Options:
  --subject ID      Whom the token is for: a managed user's id, email or third-party id.
                    Default: the service account itself.
  --format FORMAT   raw     the token alone (default)
                    json    {"access_token","token_type","expires_at","subject"} on one line
                    header  "Bearer <token>", the value of an Authorization header
  --cache URL       Share tokens between runs through Redis: redis://[:PASSWORD@]HOST:PORT[/DB]
                    (or rediss://); a cluster: redis+cluster://[:PASSWORD@]HOST:PORT,HOST:PORT...
                    (any nodes); Sentinel: redis+sentinel://[:PASSWORD@]HOST:PORT,.../MASTER[/DB]
                    [?sentinelPassword=P] (the sentinels; PASSWORD is the primary's).
                    Repeated runs then print the same token until it nears expiry.
                    An unreachable cache costs a warning on stderr, not the token.
                    env DRILLSTER_CACHE
  -h, --help        Show this help.

${CONNECTION_HELP}

Example:
  curl -H "Authorization: $(drillster-auth token --format header)" \\
    https://www.drillster.com/api/2.1.1/user`,

  options: {
    ...CONNECTION_OPTIONS,
    subject: { type: 'string' },
    format: { type: 'string' },
    cache: { type: 'string' },
  },

  async run(parsed, { io, secrets }) {
    const format = parseFormat(parsed.values.format);
    const subject = typeof parsed.values.subject === 'string' ? parsed.values.subject : undefined;
    const options = await resolveAuthOptions(parsed, io, secrets, true);
    const cacheUrl = nonEmpty(parsed.values.cache) ?? nonEmpty(io.env[ENV.cache]);
    const cache: OpenTokenCache | undefined =
      cacheUrl === undefined ? undefined : await openTokenCache(cacheUrl, io, secrets);
    let auth: DrillsterAuth | undefined;
    try {
      // Inside the try: an unusable key must still close the Redis connection, or we would hang.
      auth = createDrillsterAuth(
        cache === undefined ? options : { ...options, cache: cache.cache, onEvent: cache.onEvent },
      );
      const token = await auth.getAccessToken(subject !== undefined ? { subject } : undefined);
      secrets.add(token.accessToken);
      io.stdout.write(`${render(format, token)}\n`);
      return 0;
    } finally {
      auth?.close();
      await cache?.close();
    }
  },
};

function parseFormat(value: string | boolean | undefined): Format {
  if (value === undefined) return 'raw';
  if (FORMATS.includes(value as Format)) return value as Format;
  throw new CliError(
    'ERR_USAGE',
    `--format must be one of ${FORMATS.join(', ')} (got ${JSON.stringify(value)})`,
  );
}

function render(format: Format, token: AccessToken): string {
  switch (format) {
    case 'raw':
      return token.accessToken;
    case 'header':
      return authorizationHeader(token);
    case 'json':
      // Written out by hand because AccessToken's own toJSON redacts the token, on purpose.
      return JSON.stringify({
        access_token: token.accessToken,
        token_type: token.tokenType,
        expires_at: new Date(token.expiresAt).toISOString(),
        subject: token.subject,
      });
  }
}
