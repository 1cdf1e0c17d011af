/**
 * The jest environment of the root suites: jest's node environment, plus one CloudFormation Validate engine per jest
 * worker instead of one per test file.
 *
 * aws-cdk-lib validates every synthesized template with @aws/cloudformation-validate (WebAssembly), and building its
 * engine (the CloudFormation resource schemas) takes about 1.8 s of CPU. Jest gives each test file fresh modules, so
 * each file built it again: 23 times in `npm test`, a third of the CDK suites' CPU time. This module is loaded once
 * per worker, outside the test files' sandboxes, so the engines it keeps live as long as the worker. Test files reach
 * them through test/helpers/shared-cloudformation-validate.js, which jest.config.js puts in place of the package:
 * the same engine of the same package validates the same templates with the same options.
 */
const path = require('path');
const { TestEnvironment } = require('jest-environment-node');

/** Where the stand-in finds this worker's engines on a test file's global object. */
const SHARED_KEY = Symbol.for('geusemaker.sharedCloudFormationValidate');

/** The package exactly as aws-cdk-lib resolves it (it may be nested under aws-cdk-lib/node_modules). */
const cdkLibDir = path.dirname(require.resolve('aws-cdk-lib/package.json'));
let validatePackage;
const real = () => (validatePackage ??= require(require.resolve('@aws/cloudformation-validate', { paths: [cdkLibDir] })));

/** Engines by their configuration (JSON): aws-cdk-lib's plugin asks for the same one for every template. */
const engines = new Map();

/**
 * Everything crosses between the sandbox and this realm as strings: the package only accepts plain objects of its own
 * realm, and the test files get reports made of their own realm's objects.
 */
const shared = {
  version: () => real().version(),
  /** Builds the engine for this configuration unless this worker has it already. */
  engine(configJson) {
    if (!engines.has(configJson)) engines.set(configJson, new (real().CompositeEngine)(JSON.parse(configJson)));
  },
  /** The report of one template, as JSON. */
  validateTemplate(configJson, content, name, optionsJson) {
    shared.engine(configJson);
    const template = new (real().TemplateContent)(typeof content === 'string' ? content : Buffer.from(content), name);
    try {
      return JSON.stringify(engines.get(configJson).validateTemplate(template, JSON.parse(optionsJson)));
    } catch (error) {
      // A trap ends the engine's WebAssembly instance (the package says so in the message): the next file gets a new one.
      if (/^Internal validation error/.test(String(error?.message))) engines.delete(configJson);
      throw error;
    }
  },
};

class CdkTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global[SHARED_KEY] = shared;
  }
}

module.exports = CdkTestEnvironment;
module.exports.SHARED_KEY = SHARED_KEY;
