import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // One MockDrillster class for both entry points in CommonJS too, so instanceof holds across them.
  splitting: true,
  sourcemap: true,
  target: 'es2022',
});
