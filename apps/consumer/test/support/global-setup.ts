/**
 * Once per run, before any scenario: a scratch folder outside the workspace and the packed
 * tarballs, handed to the test workers through the environment they inherit.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAll } from './index.js';

/** A run folder this old was left by a run that was killed; no run takes a day. */
const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

export default async function setup(): Promise<() => Promise<void>> {
  const root = join(tmpdir(), 'drillster-auth-consumer');
  await mkdir(root, { recursive: true });
  for (const name of await readdir(root)) {
    const old = join(root, name);
    const { mtimeMs } = await stat(old);
    if (Date.now() - mtimeMs > ABANDONED_AFTER_MS) await rm(old, { recursive: true, force: true });
  }
  const dir = await mkdtemp(join(root, 'run-'));
  const cleanUp = async () => {
    if (process.env.DRILLSTER_CONSUMER_KEEP !== '1')
      await rm(dir, { recursive: true, force: true });
  };
  process.env.DRILLSTER_CONSUMER_RUN_DIR = dir;
  delete process.env.DRILLSTER_CONSUMER_TARBALLS;
  await packAll().catch(async (error: unknown) => {
    await cleanUp();
    throw error;
  });
  return cleanUp;
}
