import { importSigningKey, parseServiceAccountKey } from '@drillster-auth/core';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { ENV, isKeyFileText, nonEmpty, readKeyFile } from '../config.js';
import { CliError } from '../errors.js';
import { escapeControl, warn } from '../terminal.js';

/** `drillster-auth inspect-key [FILE]`: validates a key file and describes it. */
export const inspectKeyCommand: Command = {
  name: 'inspect-key',
  summary: 'Check a service account key file and describe it (never prints key material)',
  help: `Usage: drillster-auth inspect-key [FILE]

Validates a Drillster service account JSON key file: the fields, the PKCS#8 RSA private key
(at least 2048 bits), and that WebCrypto accepts it for RS256 signing. Prints the key id,
the service account id, the key type and size and the algorithm; never the key itself.
Without FILE, checks the key file that DRILLSTER_KEY_FILE names or holds (its path, or its
JSON text), as the other commands would use it.
Exits 2 with the key file error code (ERR_KEY_FILE_…) when the file is unusable.

Options:
  -h, --help   Show this help.

Examples:
  drillster-auth inspect-key ./service-account.json
  DRILLSTER_KEY_FILE="$(cat service-account.json)" drillster-auth inspect-key`,

  async run(args, { io, secrets }) {
    const parsed = parseCommandArgs('inspect-key', args, {}, 1);
    if (parsed.values.help) {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const argument = parsed.positionals[0];
    const path = argument ?? nonEmpty(io.env[ENV.keyFile]);
    if (path === undefined) {
      throw new CliError(
        'ERR_USAGE',
        `inspect-key: which key file? Usage: drillster-auth inspect-key [FILE] (default ${ENV.keyFile})`,
      );
    }
    if (argument !== undefined && isKeyFileText(argument)) {
      warn(
        io,
        `the key file's text as an argument puts the private key in \`ps\` and shell history; pass a path, or the text in ${ENV.keyFile}`,
      );
    }
    const text = await readKeyFile(path, argument === undefined ? ENV.keyFile : 'FILE', secrets);
    const key = parseServiceAccountKey(text);
    await importSigningKey(key);
    // Every field comes from the file, which may come from anyone: none may drive the terminal.
    io.stdout.write(
      [
        `key file:           ${isKeyFileText(path) ? `(JSON text in ${argument === undefined ? ENV.keyFile : 'FILE'})` : escapeControl(path)}`,
        `key id:             ${escapeControl(key.keyId)}`,
        `service account id: ${escapeControl(key.serviceAccountId)}`,
        `key type:           RSA ${key.modulusLength} bits`,
        `algorithm:          ${key.algorithm}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
