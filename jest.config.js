/** Jest for the CDK app. Type checking is done once by `tsc` in `npm test`, so ts-jest only transpiles (isolatedModules in tsconfig.json). */
module.exports = {
  // jest's node environment, keeping one CloudFormation Validate engine per worker (the file says why).
  testEnvironment: '<rootDir>/test/helpers/cdk-test-environment.js',
  moduleNameMapper: { '^@aws/cloudformation-validate$': '<rootDir>/test/helpers/shared-cloudformation-validate.js' },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Real servers from Debian's packages: `npm run test:system` (test/system/jest.config.js), run by CI.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/system/'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 60000,
  // Every core: most suites wait on bash subprocesses or synthesis, and jest's default leaves one core idle.
  maxWorkers: '100%',
};
