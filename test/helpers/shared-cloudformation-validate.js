/**
 * Stands in for @aws/cloudformation-validate inside the root test files (jest.config.js moduleNameMapper): the part of
 * its API aws-cdk-lib's CloudFormation Validate plugin uses, forwarded to the engines of this jest worker
 * (test/helpers/cdk-test-environment.js says why). An engine is kept for the worker's life, so free() lets it be.
 */
const SHARED_KEY = Symbol.for('geusemaker.sharedCloudFormationValidate');
const shared = globalThis[SHARED_KEY];
if (shared === undefined) {
  throw new Error('@aws/cloudformation-validate is shared by the jest environment test/helpers/cdk-test-environment.js: set testEnvironment to it');
}

const DEFAULT_TEMPLATE_NAME = 'template';

class TemplateContent {
  constructor(content, name = DEFAULT_TEMPLATE_NAME) {
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) throw new TypeError('template content must be a string or a Uint8Array');
    this.content = content;
    this.name = name;
  }
}

class CompositeEngine {
  constructor(config = {}) {
    this.configJson = JSON.stringify(config);
    shared.engine(this.configJson);
  }

  validateTemplate(template, options = {}) {
    if (!(template instanceof TemplateContent)) throw new TypeError('the shared engine validates TemplateContent only');
    return JSON.parse(shared.validateTemplate(this.configJson, template.content, template.name, JSON.stringify(options)));
  }

  free() {}
}

const forwarded = { DEFAULT_TEMPLATE_NAME, TemplateContent, CompositeEngine, version: () => shared.version() };
// Anything else aws-cdk-lib may start to use after an upgrade fails by name instead of as "undefined is not a constructor".
module.exports = new Proxy(forwarded, {
  get(target, key) {
    if (key in target || typeof key === 'symbol' || key === '__esModule' || key === 'then') return target[key];
    throw new Error(`@aws/cloudformation-validate.${String(key)} is not forwarded by test/helpers/shared-cloudformation-validate.js: add it there`);
  },
});
