export type { ServiceAccountKey } from '../key-file.js';
export { loadServiceAccountKey } from './key-file.js';
