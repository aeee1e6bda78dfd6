import { defineConfig } from 'tsup';

export default defineConfig({
  // tsup keeps bin.ts's shebang and marks dist/bin.js executable.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  // The executable has no API, hence no types.
  dts: { entry: ['src/index.ts'] },
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
