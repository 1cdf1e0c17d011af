/**
 * Issue 13 defect 1: an AWS endpoint that accepts connections and never answers. Every command that
 * calls AWS ends within its bound (connect/request timeouts, bounded attempts, injected small through
 * the environment) with one line and exit 1; the first Ctrl-C ends a waiting command at once (130).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { callBounds, clientConfig, DEFAULT_CALL_BOUNDS } from '../src/aws/clients';
import { tcpServer } from './helpers/local-servers';
import { BIN, bareEnv, gmOps } from './helpers/spawn-bin';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-bounds-'));
let server: Awaited<ReturnType<typeof tcpServer>>;
let port = 0;

beforeAll(async () => {
  server = await tcpServer();
  port = server.port;
});

afterAll(async () => {
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function silentAwsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return bareEnv(tmp, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
    GM_OPS_AWS_CONNECT_TIMEOUT_MS: '300',
    GM_OPS_AWS_REQUEST_TIMEOUT_MS: '300',
    GM_OPS_AWS_MAX_ATTEMPTS: '2',
    ...extra,
  });
}

describe('call bounds', () => {
  it('every client is bounded by default: connect and request timeouts that throw, and a few attempts', () => {
    expect(clientConfig({}, {})).toMatchObject({
      maxAttempts: DEFAULT_CALL_BOUNDS.maxAttempts,
      requestHandler: { connectionTimeout: 5000, requestTimeout: 20_000, throwOnRequestTimeout: true },
    });
  });

  it('the environment overrides the bounds; nonsense is ignored', () => {
    expect(callBounds({ GM_OPS_AWS_CONNECT_TIMEOUT_MS: '250', GM_OPS_AWS_REQUEST_TIMEOUT_MS: '900', GM_OPS_AWS_MAX_ATTEMPTS: '1' })).toEqual({
      connectionTimeout: 250,
      requestTimeout: 900,
      maxAttempts: 1,
    });
    expect(callBounds({ GM_OPS_AWS_REQUEST_TIMEOUT_MS: '-5', GM_OPS_AWS_MAX_ATTEMPTS: '0' })).toEqual(DEFAULT_CALL_BOUNDS);
  });
});

describe('an AWS endpoint that never answers', () => {
  // Two attempts of 300 ms, the SDK's back-off between them, and the process start-up on a busy
  // machine (the whole suite runs at once); without bounds the first call alone hangs for minutes.
  const BOUND_MS = 8000;
  it.concurrent.each(['list', 'status web', 'logs web', 'health web', 'restore web', 'history web', 'drift web', 'metrics web'])(
    'gm-ops %s ends within its bound with one line, exit 1',
    async (command) => {
    const result = await gmOps(command.split(' '), { env: silentAwsEnv(), cwd: tmp });
    expect(result.stderr).toBe(
      'gm-ops: AWS did not answer in time (TimeoutError) — check the network, proxy and region (GM_OPS_AWS_REQUEST_TIMEOUT_MS and GM_OPS_AWS_CONNECT_TIMEOUT_MS set the limits of each call, in milliseconds)\n',
    );
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(BOUND_MS);
    },
  );

  it('the first Ctrl-C ends a command waiting on AWS at once: exit 130, one line', async () => {
    const before = server.connections;
    const child = spawn(process.execPath, [BIN, 'list'], {
      env: silentAwsEnv({ GM_OPS_AWS_CONNECT_TIMEOUT_MS: '60000', GM_OPS_AWS_REQUEST_TIMEOUT_MS: '60000' }),
      cwd: tmp,
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    while (server.connections === before) await new Promise((resolve) => setTimeout(resolve, 20));
    const interruptedAt = performance.now();
    child.kill('SIGINT');
    const code = await closed;
    expect(performance.now() - interruptedAt).toBeLessThan(2000);
    expect(code).toBe(130);
    expect(stderr).toBe('gm-ops: interrupted\n');
  });
});
