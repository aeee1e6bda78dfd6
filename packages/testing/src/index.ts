export {
  FAULT_MATRIX_CLIENT_OPTIONS,
  type FaultCase,
  type FaultOutcome,
  faultMatrix,
} from './fault-matrix.js';
export {
  type GeneratedServiceAccountKey,
  type GenerateServiceAccountKeyOptions,
  generateServiceAccountKey,
  pem,
} from './keys.js';
export { MockDrillster } from './mock-drillster.js';
export {
  type OutageDrillOptions,
  type OutageDrillReport,
  runOutageDrill,
  tokenRequestTracker,
} from './outage-drill.js';
export type {
  FaultOptions,
  MockClient,
  MockDrillsterOptions,
  MockManagedUser,
  MockServiceAccount,
  MockStats,
  ServiceAccountKeyFile,
  VerifiedAccessToken,
  WebCryptoKey,
} from './types.js';
