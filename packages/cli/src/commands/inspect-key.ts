import { readFile } from 'node:fs/promises';
import { importSigningKey, parseServiceAccountKey } from '@drillster-auth/core';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';

/** `drillster-auth inspect-key FILE`: validates a key file and describes it. */
export const inspectKeyCommand: Command = {
  name: 'inspect-key',
  summary: 'Check a service account key file and describe it (never prints key material)',
  help: `Usage: drillster-auth inspect-key FILE

Validates a Drillster service account JSON key file: the fields, the PKCS#8 RSA private key
(at least 2048 bits), and that WebCrypto accepts it for RS256 signing. Prints the key id,
the service account id, the key type and size and the algorithm; never the key itself.
Exits 2 with the key file error code (ERR_KEY_FILE_…) when the file is unusable.

Options:
  -h, --help   Show this help.

Example:
  drillster-auth inspect-key ./service-account.json`,

  async run(args, { io, secrets }) {
    const parsed = parseCommandArgs('inspect-key', args, {}, 1);
    if (parsed.values.help) {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const path = parsed.positionals[0];
    if (path === undefined) {
      throw new CliError(
        'ERR_USAGE',
        'inspect-key: which key file? Usage: drillster-auth inspect-key FILE',
      );
    }
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new CliError('ERR_KEY_FILE_READ', `cannot read the key file ${path}: ${reason}`, {
        cause: error,
      });
    }
    secrets.addKeyMaterial(text);
    const key = parseServiceAccountKey(text);
    await importSigningKey(key);
    io.stdout.write(
      [
        `key file:           ${path}`,
        `key id:             ${key.keyId}`,
        `service account id: ${key.serviceAccountId}`,
        `key type:           RSA ${key.modulusLength} bits`,
        `algorithm:          ${key.algorithm}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
