import { importSigningKey } from '@drillster-auth/core';
import type { Command } from '../command.js';
import { ENV, isKeyFileText, listedKeyFiles, nonEmpty, readKeyFile } from '../config.js';
import { CliError } from '../errors.js';
import { analyseKeyFile, weakKeyWarning } from '../key-file.js';
import { escapeControl, warn } from '../terminal.js';

/** Most key files one run describes: a key list is a handful, not a directory. */
const MAX_FILES = 16;

/** `drillster-auth inspect-key [FILE...]`: validates key files and describes them. */
export const inspectKeyCommand: Command = {
  name: 'inspect-key',
  summary: 'Check a service account key file and describe it (never prints key material)',
  help: `Usage: drillster-auth inspect-key [FILE...]

Validates a Drillster service account JSON key file: the fields, the PKCS#8 RSA private key
(at least 2048 bits), and that WebCrypto accepts it for RS256 signing. Prints the key id,
the service account id, the key type and size, the algorithm, and the public key's
fingerprints to match it with the key list in Drillster's console: the JWK thumbprint
(RFC 7638, SHA-256, base64url) and the SHA-256 of the public key's SPKI DER (hex, as
openssl pkey -pubout -outform DER | openssl dgst -sha256 prints it). Never the key itself.
A key under 2048 bits is refused with a warning that names its fingerprints, so that it
can be found and deleted. A file from drillster-auth keygen whose keyId or
serviceAccountId is not filled in yet is refused with an error naming those fields.
Several FILEs (a key list during a rotation) are described one after the other.
Without FILE, checks the key files that DRILLSTER_KEY_FILE names or holds (a path, the JSON
text, or a list, as for the other commands).
Exits 2 with the key file error code (ERR_KEY_FILE_…) when a file is unusable; then
nothing is printed on stdout.

Options:
  -h, --help   Show this help.

Examples:
  drillster-auth inspect-key ./service-account.json
  DRILLSTER_KEY_FILE="$(cat service-account.json)" drillster-auth inspect-key`,

  options: {},
  maxPositionals: MAX_FILES,

  async run(parsed, { io, secrets }) {
    const fromArguments = parsed.positionals.length > 0;
    const source = fromArguments ? 'FILE' : ENV.keyFile;
    const paths = fromArguments
      ? parsed.positionals
      : listedKeyFiles(nonEmpty(io.env[ENV.keyFile]), secrets);
    if (paths.length === 0) {
      throw new CliError(
        'ERR_USAGE',
        `inspect-key: which key file? Usage: drillster-auth inspect-key [FILE...] (default ${ENV.keyFile})`,
      );
    }
    if (fromArguments && paths.some(isKeyFileText)) {
      warn(
        io,
        `the key file's text as an argument puts the private key in \`ps\` and shell history; pass a path, or the text in ${ENV.keyFile}`,
      );
    }
    // All checked before anything is printed: on failure, stdout stays empty.
    const blocks: string[] = [];
    for (const path of paths) {
      const text = await readKeyFile(path, source, secrets);
      const analysis = analyseKeyFile(text);
      if (!analysis.ok) {
        const weak = analysis.publicKey && weakKeyWarning(analysis.publicKey);
        if (weak !== undefined) warn(io, weak);
        throw analysis.error;
      }
      const { key, publicKey } = analysis;
      await importSigningKey(key);
      // Every field comes from the file, which may come from anyone: none may drive the terminal.
      blocks.push(
        [
          `key file:           ${isKeyFileText(path) ? `(JSON text in ${source})` : escapeControl(path)}`,
          `key id:             ${escapeControl(key.keyId)}`,
          `service account id: ${escapeControl(key.serviceAccountId)}`,
          `key type:           RSA ${key.modulusLength} bits`,
          `algorithm:          ${key.algorithm}`,
          `JWK thumbprint:     ${publicKey.jwkThumbprint}`,
          `SPKI SHA-256:       ${publicKey.spkiSha256}`,
          '',
        ].join('\n'),
      );
    }
    io.stdout.write(blocks.join('\n'));
    return 0;
  },
};
