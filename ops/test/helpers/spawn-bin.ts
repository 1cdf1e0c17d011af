/** Spawns the real entry point (bin/gm-ops.js, built by the global setup), optionally with a preload that mocks AWS. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const OPS = path.join(__dirname, '..', '..');
export const BIN = path.join(OPS, 'bin', 'gm-ops.js');
export const OPS_PRELOAD = path.join(__dirname, 'preload-fake-aws-ops.js');

export interface Spawned {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the process, milliseconds. */
  readonly ms: number;
}

/** An environment with no AWS configuration at all (and no way to reach IMDS); the price cache in `dir`. */
export function bareEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !['NO_COLOR', 'FORCE_COLOR', 'CI', 'GM_OPS_CACHE_DIR', 'XDG_CACHE_HOME'].includes(key)) env[key] = value;
  }
  return {
    ...env,
    HOME: dir,
    AWS_CONFIG_FILE: path.join(dir, 'none-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    GM_OPS_CACHE_DIR: path.join(dir, 'price-cache'),
    ...extra,
  };
}

export function gmOps(args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string; nodeArgs?: readonly string[] }): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { env: options.env, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** Runs the bin with AWS mocked from `fixture` (see preload-fake-aws-ops.js); region eu-west-1, fake credentials. */
export function gmOpsWithFakeAws(dir: string, fixture: object, args: readonly string[], cwd = dir): Promise<Spawned & { actions: () => unknown[] }> {
  const file = path.join(dir, `fixture-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(fixture));
  const env = bareEnv(dir, {
    GM_OPS_FAKE_AWS: file,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
    NODE_PATH: path.join(OPS, '..', 'node_modules'),
  });
  return gmOps(args, { env, cwd, nodeArgs: ['-r', OPS_PRELOAD] }).then((result) => ({
    ...result,
    actions: () => (fs.existsSync(`${file}.actions`) ? fs.readFileSync(`${file}.actions`, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []),
  }));
}
