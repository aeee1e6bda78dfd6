export { MockDrillster } from './mock-drillster.js';
export type {
  FaultOptions,
  MockClient,
  MockDrillsterOptions,
  MockManagedUser,
  MockServiceAccount,
  MockStats,
  ServiceAccountKeyFile,
  VerifiedAccessToken,
} from './types.js';
