/**
 * Once per run, before any scenario: a scratch folder outside the workspace and the packed
 * tarballs, handed to the test workers through the environment they inherit.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAll } from './index.js';

export default async function setup(): Promise<() => Promise<void>> {
  const root = join(tmpdir(), 'drillster-auth-consumer');
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, 'run-'));
  process.env.DRILLSTER_CONSUMER_RUN_DIR = dir;
  delete process.env.DRILLSTER_CONSUMER_TARBALLS;
  await packAll();
  return async () => {
    if (process.env.DRILLSTER_CONSUMER_KEEP !== '1')
      await rm(dir, { recursive: true, force: true });
  };
}
