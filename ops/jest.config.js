/**
 * Jest for gm-ops. Type checking is done once by `tsc --noEmit -p ops/tsconfig.json` (npm run
 * typecheck), so ts-jest only transpiles: `isolatedModules: true` lives in tsconfig.json (where
 * ts-jest 29.4 wants it; the ts-jest option of the same name is deprecated) and diagnostics are off.
 * The global setup compiles ops/dist (incrementally) for the tests that spawn the real bin.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/setup-env.js'],
  globalSetup: '<rootDir>/test/global-setup.js',
  // testTimeout: 20 s, set by test/setup-env.js (it holds under `npm test`'s --projects too).
  // Every core: most suites wait on bash subprocesses or synthesis, and jest's default leaves one core idle.
  maxWorkers: '100%',
};
