// The AWS SDK warns once per process under Node 20 about its future Node 22 requirement; gm-ops
// silences it at startup (src/main.ts), and so do the tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
