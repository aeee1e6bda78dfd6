import swc from 'unplugin-swc';
import { packageTestConfig } from '../../vitest.config.base.js';

// esbuild, vitest's default transformer, emits no decorator metadata; Nest's DI needs it.
export default packageTestConfig({ plugins: [swc.vite({ module: { type: 'es6' } })] });
