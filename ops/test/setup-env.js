// The AWS SDK warns once per process under Node 20 about its future Node 22 requirement; gm-ops
// silences it at startup (src/main.ts), and so do the tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// gm-ops' tests time out after 20 s, also when `npm test` runs them in one jest with the CDK app's tests
// (there the first project's config, the root's 60 s, would apply: jest's testTimeout is global).
jest.setTimeout(20000);
