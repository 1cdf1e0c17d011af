/** Jest for the CDK app. Type checking is done once by `tsc` in `npm test`, so ts-jest only transpiles (isolatedModules in tsconfig.json). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Real servers from Debian's packages: `npm run test:system` (test/system/jest.config.js), run by CI.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/system/'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 60000,
  // Host-script suites retry a failing test twice (test/helpers/retry-host-scripts.ts says why).
  setupFilesAfterEnv: ['<rootDir>/test/helpers/retry-host-scripts.ts'],
  // Every core: most suites wait on bash subprocesses or synthesis, and jest's default leaves one core idle.
  maxWorkers: '100%',
};
