import { packageConfig } from '../../tsup.config.base.js';

export default packageConfig({
  // tsup keeps bin.ts's shebang and marks dist/bin.js executable.
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  // The executable has no API, hence no types.
  dtsEntry: { index: 'src/index.ts' },
});
