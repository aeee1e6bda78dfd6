/// <reference types="node" />
import { readFile } from 'node:fs/promises';
import { KeyFileError } from '../errors.js';
import { parseServiceAccountKey, type ServiceAccountKey } from '../key-file.js';

/** Errno codes that mean no file is at the path: a folder on the way is missing or a file, or the name is too long to exist. */
const NOT_FOUND = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG']);

/**
 * Reads a Drillster key file from disk and parses it with `parseServiceAccountKey` (a leading
 * UTF-8 byte order mark is stripped). Node.js, Deno and Bun only: import it from
 * `@drillster-auth/core/node`; the main entry point never touches the file system.
 *
 * @param path - Path of the JSON key file as downloaded from the Drillster console (or a `file:` URL).
 * @returns The validated key; the private key does not show in `JSON.stringify` or inspect output.
 * @throws {@link KeyFileError} `ERR_KEY_FILE_NOT_FOUND` when nothing is at `path`,
 *   `ERR_KEY_FILE_UNREADABLE` when it cannot be read (a folder, no permission), or the codes of
 *   `parseServiceAccountKey` for its content. No error quotes the file's content.
 */
export async function loadServiceAccountKey(path: string | URL): Promise<ServiceAccountKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const errno = (error as { code?: unknown } | null)?.code;
    const reason = typeof errno === 'string' ? errno : 'unknown error';
    // Node's error repeats the path, and a caller who passed the key file's text instead of its
    // path would see the private key in it: the cause keeps only the errno code.
    const cause = new Error(reason);
    if (typeof errno === 'string' && NOT_FOUND.has(errno)) {
      throw new KeyFileError('ERR_KEY_FILE_NOT_FOUND', `No key file at ${describe(path)}.`, {
        cause,
      });
    }
    throw new KeyFileError(
      'ERR_KEY_FILE_UNREADABLE',
      `The key file at ${describe(path)} cannot be read (${reason}).`,
      { cause },
    );
  }
  return parseServiceAccountKey(text);
}

/** The path for an error message, unless it looks like key material passed by mistake. */
function describe(path: string | URL): string {
  const text = String(path);
  if (text.length > 1024 || /[{}\r\n]|PRIVATE KEY/.test(text)) {
    return 'the given path (not shown: it looks like key file content, not a path)';
  }
  return JSON.stringify(text);
}
