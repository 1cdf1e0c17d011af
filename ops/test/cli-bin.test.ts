/**
 * The real entry point, spawned: `node bin/gm-ops.js ...` (built into ops/dist by the global setup).
 * stdout, stderr and exit codes as a user sees them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpServer, type LocalServer } from './helpers/local-servers';
import { bareEnv as bareEnvIn, gmOps as spawnGmOps, type Spawned } from './helpers/spawn-bin';

const OPS = path.join(__dirname, '..');
const PRELOAD = path.join(__dirname, 'helpers', 'preload-fake-aws.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-bin-'));
const bareEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => bareEnvIn(tmp, extra);
const gmOps = (args: string[], env: NodeJS.ProcessEnv = bareEnv(), nodeArgs: string[] = []): Promise<Spawned> => spawnGmOps(args, { env, cwd: tmp, nodeArgs });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));


function withFixture(fixture: object, extra: NodeJS.ProcessEnv = {}): { env: NodeJS.ProcessEnv; nodeArgs: string[] } {
  const file = path.join(tmp, `fixture-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(fixture));
  return {
    env: bareEnv({ GM_OPS_FAKE_AWS: file, AWS_REGION: 'eu-west-1', NODE_PATH: path.join(OPS, '..', 'node_modules'), ...extra }),
    nodeArgs: ['-r', PRELOAD],
  };
}

const ESC = '\u001b[';

describe('gm-ops --help', () => {
  it('lists the commands, exit 0, no colors when not a terminal', async () => {
    const result = await gmOps(['--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    for (const command of ['list', 'status', 'logs', 'health']) expect(result.stdout).toContain(`gm-ops ${command}`);
    expect(result.stdout).not.toContain(ESC);
  });

  it.each(['list', 'status', 'logs', 'health'])('%s --help shows usage and examples', async (command) => {
    const result = await gmOps([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`$ gm-ops ${command}`);
    expect(result.stdout).toContain('Examples');
  });

  it('colors with FORCE_COLOR, none with NO_COLOR (NO_COLOR wins)', async () => {
    expect((await gmOps(['--help'], bareEnv({ FORCE_COLOR: '1' }))).stdout).toContain(ESC);
    expect((await gmOps(['--help'], bareEnv({ FORCE_COLOR: '1', NO_COLOR: '1' }))).stdout).not.toContain(ESC);
  });

  it('does not load the AWS SDK', async () => {
    const out = path.join(tmp, 'modules.json');
    const probe = path.join(tmp, 'probe.js');
    fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));`);
    const result = await gmOps(['--help'], bareEnv(), ['-r', probe]);
    expect(result.code).toBe(0);
    const loaded: string[] = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(loaded.some((m) => m.includes(`${path.sep}clipanion${path.sep}`))).toBe(true);
    expect(loaded.filter((m) => m.includes('@aws-sdk') || m.includes('@smithy') || m.includes(`${path.sep}ora${path.sep}`) || m.includes(`${path.sep}zod${path.sep}`))).toEqual([]);
  });

  it('--version prints the package version', async () => {
    const version = JSON.parse(fs.readFileSync(path.join(OPS, 'package.json'), 'utf8')).version;
    expect(await gmOps(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});

describe('errors from the real process: one line on stderr, exit code', () => {
  it('usage error: exit 2', async () => {
    const result = await gmOps(['logs', 'my-stack', '--tail', 'lots']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('gm-ops: Invalid value for --tail: expected a whole number of lines from 0 to 100000 (got "lots") — see `gm-ops logs --help`\n');
  });

  it('no region: exit 2', async () => {
    const result = await gmOps(['list']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('gm-ops: no AWS region configured — pass --region, set AWS_REGION, or set a region in your AWS profile\n');
  });

  it('no credentials: exit 1', async () => {
    const result = await gmOps(['list', '--region', 'eu-west-1']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe('gm-ops: no AWS credentials found — run `aws configure` or `aws sso login`, or set AWS_PROFILE (or pass --profile)\n');
  });

  it('an unknown --profile: exit 1, one line', async () => {
    const result = await gmOps(['list', '--region', 'eu-west-1', '--profile', 'nobody']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'gm-ops: no AWS credentials found for profile "nobody" — check that the profile exists in ~/.aws/config or ~/.aws/credentials (or run `aws sso login --profile nobody`)\n',
    );
  });
});

describe('AWS-backed commands through the real entry point (SDK mocked in the child)', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await httpServer('hang');
  });
  afterAll(() => server.close());

  const fixture = () => ({
    stacks: [
      { name: 'GeuseAutomation-web', status: 'UPDATE_COMPLETE', outputs: { AutoScalingGroupName: 'asg-web', EntryUrl: server.url } },
      { name: 'GeuseData-web', status: 'CREATE_COMPLETE' },
      { name: 'GeuseDev-broken', status: 'ROLLBACK_COMPLETE', outputs: { AutoScalingGroupName: 'asg-broken' } },
      { name: 'GeuseData-broken', status: 'CREATE_COMPLETE' },
      { name: 'SomethingElse', status: 'CREATE_COMPLETE' },
    ],
    groups: { 'asg-web': [{ id: 'i-web' }], 'asg-broken': [] },
    instances: { 'i-web': { state: 'running', spot: true, az: 'eu-west-1c' } },
  });

  it('list --json', async () => {
    const { env, nodeArgs } = withFixture(fixture());
    const result = await gmOps(['list', '--json'], env, nodeArgs);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.deployments.map((d: { name: string; condition: string }) => `${d.name}:${d.condition}`)).toEqual(['broken:stuck', 'web:ok']);
    expect(doc.deployments[1]).toMatchObject({ tier: 'automation', host: { instanceId: 'i-web', market: 'spot', availabilityZone: 'eu-west-1c' }, entryUrl: server.url });
  });

  it('status of a stuck stack: the way out on stdout, exit 1', async () => {
    const { env, nodeArgs } = withFixture(fixture());
    const result = await gmOps(['status', 'broken'], env, nodeArgs);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('aws cloudformation delete-stack --stack-name GeuseDev-broken --region eu-west-1');
  });

  it('status of a missing deployment: exit 1, one line', async () => {
    const { env, nodeArgs } = withFixture(fixture());
    expect(await gmOps(['status', 'ghost'], env, nodeArgs)).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'gm-ops: deployment "ghost" not found in eu-west-1 — run `gm-ops list` to see the deployments in this region (or pass --region)\n',
    });
  });

  it('logs of a deployment without a host: exit 1', async () => {
    const { env, nodeArgs } = withFixture(fixture());
    const result = await gmOps(['logs', 'broken'], env, nodeArgs);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gm-ops: deployment "broken" has no running host/);
  });

  it('health --direct against a hanging entry point ends within the probe timeout, exit 1', async () => {
    const { env, nodeArgs } = withFixture(fixture());
    const result = await gmOps(['health', 'web', '--direct', '--timeout', '600ms'], env, nodeArgs);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/web\s+n8n\s+http \/healthz\/readiness\s+FAIL\s+\d+ ms\s+no response within 600 ms/);
    // Process start-up (node, SDK) + discovery + one 600 ms probe.
    expect(result.ms).toBeLessThan(600 + 2000);
  });
});
