import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // See local/node-support.ts: the pinned SDK supports the Node.js the tests run on.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      // Seconds: pure logic, adapters on in-memory stores, and the CDK template (npm run test:fast).
      { extends: true, test: { name: 'fast', include: ['test/unit/**/*.test.ts', 'test/cdk/**/*.test.ts'] } },
      // Minutes: the emulators, the whole runtime, real SDKs, faults and the benchmark (npm run test:slow).
      { extends: true, test: { name: 'slow', include: ['test/e2e/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/bench/**/*.test.ts', 'test/population/**/*.test.ts', 'test/browser/**/*.test.ts'] } },
      // Load that needs the machine to itself, so `npm test` runs it after the others (npm run test:load).
      { extends: true, test: { name: 'load', include: ['test/load/**/*.test.ts'] } },
    ],
  },
});
