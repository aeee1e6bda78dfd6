/** The result shape of packages/core/test/runtimes/suite.ts, as the runners print or answer it. */
export interface SuiteResult {
  runtime: string;
  passed: number;
  failed: { name: string; error: string }[];
  tokenRequests: number;
}

/** The result JSON on the last non-empty line of a runner's output. */
export function parseSuiteOutput(output: string): SuiteResult {
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as SuiteResult;
}
