import { type FileHandle, open } from 'node:fs/promises';
import type { Command } from '../command.js';
import { CliError } from '../errors.js';
import { describeSpki, type PublicKeyDescription } from '../fingerprints.js';
import type { CliIo } from '../io.js';
import { escapeControl } from '../terminal.js';

const SIZES = ['2048', '3072', '4096'] as const;

/** `drillster-auth keygen --out FILE`: a key pair made here, the private half in a key file. */
export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'Create your own RSA key pair: a key file, and the public key to register',
  help: `Usage: drillster-auth keygen --out FILE [--bits 2048|3072|4096] [--key-id ID]
                           [--service-account-id ID] [--json]

Creates an RSA key pair on this machine (WebCrypto), for a service account whose public key
you register in Drillster's console yourself instead of letting Drillster generate the pair.
Writes the private key to FILE in Drillster's key file shape ({"privateKey","keyId",
"serviceAccountId"}), readable by you only (mode 0600); never overwrites an existing file.
Prints the public key, which is what you register: as PEM (SPKI) and as a JWK, with its
JWK thumbprint (RFC 7638, SHA-256) and the SHA-256 of its SPKI DER to recognise it later in
the console's key list (drillster-auth inspect-key prints the same). Never prints the
private key.

The key id is known only once the public key is registered. Pass the ids with the flags if
you have them; else, when stdin is a terminal (and without --json), keygen asks for them
after printing the public key (press Enter to leave one empty); else they stay empty ("")
and the key file is refused until you fill them in (inspect-key names what is missing).

Options:
  --out FILE                 Where to write the key file. Required.
  --bits N                   RSA modulus size: 2048 (default), 3072 or 4096.
  --key-id ID                The key id Drillster shows for the registered public key.
  --service-account-id ID    The id of the service account the key belongs to.
  --json                     Print one JSON object instead: {"file","bits","keyId",
                             "serviceAccountId","missing","publicKeyPem","publicJwk",
                             "jwkThumbprint","spkiSha256"}. Never prompts.
  -h, --help                 Show this help.

Example:
  drillster-auth keygen --out ./service-account.json --bits 3072`,

  options: {
    out: { type: 'string' },
    bits: { type: 'string' },
    'key-id': { type: 'string' },
    'service-account-id': { type: 'string' },
    json: { type: 'boolean' },
  },

  async run(parsed, { io, secrets }) {
    const out = parsed.values.out;
    if (typeof out !== 'string' || out === '') {
      throw new CliError('ERR_USAGE', 'keygen: where to? --out FILE is required');
    }
    const bits = parseBits(parsed.values.bits);
    const ids = {
      keyId: parseId(parsed.values['key-id'], '--key-id'),
      serviceAccountId: parseId(parsed.values['service-account-id'], '--service-account-id'),
    };
    const json = parsed.values.json === true;

    // Opened before the slow generation, so an existing file is refused at once.
    const file = await createExclusive(out);
    try {
      const { privateKeyPem, publicKey } = await generate(bits);
      secrets.addKeyMaterial(JSON.stringify({ privateKey: privateKeyPem }));
      await writeKeyFile(file, privateKeyPem, ids);
      const missing = missingIds(ids);
      if (json) {
        io.stdout.write(`${JSON.stringify(jsonReport(out, publicKey, ids, missing))}\n`);
        return 0;
      }
      io.stdout.write(textReport(out, publicKey));
      if (missing.length > 0 && io.stdin?.isTTY === true) {
        await prompt(io, io.stdin, ids, missing);
        await writeKeyFile(file, privateKeyPem, ids);
      }
      io.stdout.write(nextSteps(out, missingIds(ids)));
      return 0;
    } finally {
      await file.close();
    }
  },
};

function parseBits(value: string | boolean | undefined): number {
  if (value === undefined) return 2048;
  if (SIZES.includes(value as (typeof SIZES)[number])) return Number(value);
  throw new CliError(
    'ERR_USAGE',
    `--bits must be one of ${SIZES.join(', ')} (got ${JSON.stringify(value)})`,
  );
}

/** An id as core's parser accepts it: non-empty, no white space. */
function parseId(value: string | boolean | undefined, flag: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value === '' || /\s/.test(value)) {
    throw new CliError(
      'ERR_USAGE',
      `${flag} must be a non-empty id without white space (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

async function createExclusive(path: string): Promise<FileHandle> {
  try {
    // `wx`: fail if it exists, so a key that may already be registered is never lost. The mode
    // applies at creation, before a byte is written; the umask can only take bits away.
    return await open(path, 'wx', 0o600);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unwritable';
    if (reason === 'EEXIST') {
      throw new CliError(
        'ERR_KEY_FILE_EXISTS',
        `${escapeControl(path)} exists; keygen never overwrites a key file. Choose another --out`,
      );
    }
    throw new CliError('ERR_KEY_FILE_WRITE', `cannot create ${escapeControl(path)}: ${reason}`, {
      cause: Object.assign(new Error(reason), { code: reason }),
    });
  }
}

async function generate(
  bits: number,
): Promise<{ privateKeyPem: string; publicKey: PublicKeyDescription }> {
  const pair = (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  return { privateKeyPem: pem('PRIVATE KEY', pkcs8), publicKey: describeSpki(spki) };
}

/** 64-character lines and `\n` breaks, as in the key files Drillster's console hands out. */
function pem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

interface Ids {
  keyId: string;
  serviceAccountId: string;
}

/** The console's layout: two-space indent, fields in this order. */
async function writeKeyFile(file: FileHandle, privateKey: string, ids: Ids): Promise<void> {
  const text = `${JSON.stringify({ privateKey, ...ids }, null, 2)}\n`;
  await file.truncate(0);
  await file.write(text, 0, 'utf8');
  await file.sync();
}

function missingIds(ids: Ids): string[] {
  return (['keyId', 'serviceAccountId'] as const).filter((name) => ids[name] === '');
}

function jsonReport(out: string, key: PublicKeyDescription, ids: Ids, missing: string[]) {
  return {
    file: out,
    bits: key.bits,
    keyId: ids.keyId,
    serviceAccountId: ids.serviceAccountId,
    missing,
    publicKeyPem: key.pem,
    publicJwk: key.jwk,
    jwkThumbprint: key.jwkThumbprint,
    spkiSha256: key.spkiSha256,
  };
}

function textReport(out: string, key: PublicKeyDescription): string {
  return `Wrote the private key to ${escapeControl(out)} (mode 0600). It is not printed; keep it secret.

Public key (${key.bits}-bit RSA), to register with the service account in Drillster's console:

${key.pem}

As a JWK:
${JSON.stringify(key.jwk)}

JWK thumbprint (RFC 7638, SHA-256): ${key.jwkThumbprint}
SPKI SHA-256:                       ${key.spkiSha256}
`;
}

function nextSteps(out: string, missing: string[]): string {
  if (missing.length === 0)
    return `\nThe key file is complete: drillster-auth doctor checks it against Drillster.\n`;
  return `\nNext: register the public key, then fill in ${missing.join(' and ')} in ${escapeControl(out)}.
Until then the key file is refused (drillster-auth inspect-key says what is missing).
`;
}

/** Asks for each missing id on stderr (stdout is the report); Enter leaves it empty. */
async function prompt(
  io: CliIo,
  stdin: AsyncIterable<string | Uint8Array>,
  ids: Ids,
  missing: string[],
): Promise<void> {
  const labels: Record<string, string> = {
    keyId: 'the key id Drillster shows for this public key',
    serviceAccountId: "the service account's id",
  };
  const lines = readLines(stdin);
  try {
    for (const name of missing) {
      for (;;) {
        io.stderr.write(`Once registered, enter ${labels[name]} (Enter to leave empty): `);
        const next = await lines.next();
        const answer = next.done ? '' : String(next.value).trim();
        if (next.done || answer === '' || !/\s/.test(answer)) {
          ids[name as keyof Ids] = answer;
          break;
        }
        io.stderr.write('An id has no white space; try again.\n');
      }
    }
  } finally {
    await lines.return(undefined);
  }
}

/** The lines of `source`, one at a time, without their line ends. */
async function* readLines(source: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of source) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf('\n');
    while (end !== -1) {
      yield buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\n');
    }
  }
  if (buffered !== '') yield buffered;
}
