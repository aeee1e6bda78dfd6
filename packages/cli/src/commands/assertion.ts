import { createDrillsterAuth } from '@drillster-auth/core';
import type { Command } from '../command.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, resolveAuthOptions } from '../config.js';

/** `drillster-auth assertion`: prints a signed JWT bearer assertion. */
export const assertionCommand: Command = {
  name: 'assertion',
  summary: 'Print a signed JWT bearer assertion (RFC 7523) for the token endpoint',
  help: `Usage: drillster-auth assertion [--subject ID] [configuration]

Signs a JWT bearer assertion with the service account key and prints it on stdout. Its
audience is the token endpoint (discovered from the issuer unless --token-endpoint is given);
it is valid for 5 minutes. The assertion is a credential: treat it like a token.
The client id and secret are not needed to sign, so they are optional here.

Options:
  --subject ID   Whom the assertion asks a token for. Default: the service account itself.
  -h, --help     Show this help.

${CONNECTION_HELP}

Example:
  drillster-auth assertion --key-file key.json --token-endpoint https://www.drillster.com/daas/oauth/token`,

  options: {
    ...CONNECTION_OPTIONS,
    subject: { type: 'string' },
  },

  async run(parsed, { io, secrets }) {
    const subject = typeof parsed.values.subject === 'string' ? parsed.values.subject : undefined;
    const auth = createDrillsterAuth(await resolveAuthOptions(parsed, io, secrets, false));
    try {
      const assertion = await auth.createAssertion(subject !== undefined ? { subject } : undefined);
      secrets.add(assertion);
      io.stdout.write(`${assertion}\n`);
      return 0;
    } finally {
      auth.close();
    }
  },
};
