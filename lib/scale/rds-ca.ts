import { Duration } from 'aws-cdk-lib';

/**
 * Where the n8n tasks keep the RDS certificate bundle: a task-scoped bind mount (Fargate ephemeral storage), written by
 * the `rds-ca` init container and read by n8n. Nothing else lives there.
 */
export const RDS_CA_VOLUME = 'rds-ca';
export const RDS_CA_MOUNT = '/rds-ca';
/** The bundle n8n reads through DB_POSTGRESDB_SSL_CA_FILE (the `_FILE` form of @n8n/config's DB_POSTGRESDB_SSL_CA). */
export const RDS_CA_FILE = `${RDS_CA_MOUNT}/rds-ca-bundle.pem`;

/**
 * How the init container fetches: attempts, each bounded by its own timeout, a pause between them; a 4xx answer or a
 * body without a parseable certificate fails at once. At most 3 x 15 s + 2 x 3 s = 51 s, below RDS_CA_START_TIMEOUT.
 */
export const RDS_CA_FETCH = { attempts: 3, timeoutMs: 15_000, retryMs: 3_000 } as const;

/**
 * The init container's startTimeout: n8n gives up and the task stops if the bundle is not written within it, counted
 * from the init container's start (ECS ContainerDefinition.startTimeout; 120 s is Fargate's maximum).
 */
export const RDS_CA_START_TIMEOUT = Duration.seconds(120);

/**
 * The bundle of intermediate and root certificates for the RDS CAs of one region, including rds-ca-rsa2048-g1, the CA
 * of the scale tier's database (RDS User Guide, "Certificate bundles for AWS Regions"; commercial partition only, the
 * GovCloud and China bundles live on other hosts). Served over HTTPS, so the public web PKI authenticates it.
 */
export function rdsCaBundleUrl(region: string): string {
  return `https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem`;
}

/** The init container's environment: where to fetch from, where to write, and the bounds of RDS_CA_FETCH. */
export function rdsCaFetchEnvironment(bundleUrl: string): Record<string, string> {
  return {
    GM_RDS_CA_URL: bundleUrl,
    GM_RDS_CA_FILE: RDS_CA_FILE,
    GM_RDS_CA_ATTEMPTS: String(RDS_CA_FETCH.attempts),
    GM_RDS_CA_TIMEOUT_MS: String(RDS_CA_FETCH.timeoutMs),
    GM_RDS_CA_RETRY_MS: String(RDS_CA_FETCH.retryMs),
  };
}

/**
 * `node -e` script of the init container (the n8n image's own node, Node 24: global fetch, AbortSignal.timeout,
 * crypto.X509Certificate). Fetches GM_RDS_CA_URL, keeps only the PEM certificate blocks, requires each to parse as
 * X.509, and writes them (0644, through a temporary file, without trailing whitespace, which @n8n/config's `_FILE`
 * reader would trim with a warning) to GM_RDS_CA_FILE. Exit 0 once written; 1 when it cannot be fetched or is not a
 * certificate bundle; 2 when a setting is missing. A 5xx answer, a network error or a timeout is retried.
 */
export const RDS_CA_FETCH_SCRIPT = [
  // String concatenation, no template literals: CloudFormation's linter reads `${...}` as an Fn::Sub parameter (E1029).
  "'use strict';",
  "const fs = require('fs');",
  "const { X509Certificate } = require('crypto');",
  'const setting = (name) => {',
  '  const value = process.env[name];',
  "  if (!value) { console.error('rds-ca: ' + name + ' is not set'); process.exit(2); }",
  '  return value;',
  '};',
  "const url = setting('GM_RDS_CA_URL');",
  "const file = setting('GM_RDS_CA_FILE');",
  "const attempts = Number(setting('GM_RDS_CA_ATTEMPTS'));",
  "const timeoutMs = Number(setting('GM_RDS_CA_TIMEOUT_MS'));",
  "const retryMs = Number(setting('GM_RDS_CA_RETRY_MS'));",
  'const failure = (message, permanent) => Object.assign(new Error(message), { permanent });',
  'const fetchBundle = async () => {',
  '  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });',
  '  const body = await response.text();',
  "  if (!response.ok) throw failure('HTTP ' + response.status, response.status < 500);",
  '  const blocks = body.match(/-----BEGIN CERTIFICATE-----[\\s\\S]+?-----END CERTIFICATE-----/g) || [];',
  "  if (blocks.length === 0) throw failure('the answer holds no PEM certificate', true);",
  '  blocks.forEach((block, index) => {',
  "    try { new X509Certificate(block); } catch (error) { throw failure('certificate ' + (index + 1) + ' does not parse: ' + error.message, true); }",
  '  });',
  '  return blocks;',
  '};',
  "const reasonOf = (error) => error.name === 'TimeoutError' ? 'no answer within ' + timeoutMs + ' ms'",
  "  : error.message + (error.cause ? ' (' + (error.cause.code || error.cause.message) + ')' : '');",
  '(async () => {',
  '  for (let attempt = 1; ; attempt += 1) {',
  '    try {',
  '      const blocks = await fetchBundle();',
  "      const partial = file + '.partial';",
  "      fs.writeFileSync(partial, blocks.join('\\n'), { mode: 0o644 });",
  '      fs.renameSync(partial, file);',
  "      console.log('rds-ca: ' + blocks.length + ' certificates from ' + url + ' written to ' + file);",
  '      return;',
  '    } catch (error) {',
  '      const reason = reasonOf(error);',
  "      const tried = ' (attempt ' + attempt + ' of ' + attempts + ')';",
  '      if (error.permanent || attempt >= attempts) {',
  "        console.error('rds-ca: cannot fetch ' + url + ': ' + reason + tried + '; n8n will not start');",
  '        process.exit(1);',
  '      }',
  "      console.error('rds-ca: ' + url + ': ' + reason + tried + '; retrying in ' + retryMs + ' ms');",
  '      await new Promise((resolve) => setTimeout(resolve, retryMs));',
  '    }',
  '  }',
  '})();',
].join('\n');
