/**
 * `gm-ops health --deep`: the host's functional check (contract 3: `functional-check.sh --json`, one
 * `{"service","ok","ms","detail"}` object per line, exit 0/1/2) runs in the same SSM command as the
 * liveness probes; each service's function is reported beside its liveness.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { SSM_STDOUT_LIMIT } from '../src/aws/ssm-run';
import { FUNCTION_CHECK_PATH, parseFunctionCheck } from '../src/health/function-check';
import { hostProbeScript, parseHostProbes } from '../src/health/host-probes';
import { FakeAws } from './helpers/fake-aws';
import { Harness, runWith } from './helpers/harness';
import { healthyProbeLines } from './helpers/fake-aws-data';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';
import { gmOpsWithFakeAws } from './helpers/spawn-bin';
import { StubHost, type StubState, healthyHost } from './helpers/stub-host';

const TOKEN = 'deep0token1';

const hosts: StubHost[] = [];
function stubHost(state: StubState = healthyHost()): StubHost {
  const host = new StubHost(state);
  hosts.push(host);
  return host;
}
afterEach(() => {
  while (hosts.length) hosts.pop()!.cleanup();
});

const functionsOf = (stdout: string) => Object.fromEntries([...parseFunctionCheck(stdout, TOKEN)].map(([service, result]) => [service, result]));

describe('the deep probe script', () => {
  it('runs the functional check with --json in the same script as the probes, bounded by a time limit', () => {
    const script = hostProbeScript(TOKEN, 8000, true);
    expect(script).toContain(`timeout 150 bash '${FUNCTION_CHECK_PATH}' --json`);
    expect(FUNCTION_CHECK_PATH).toBe('/opt/geusemaker/host/functional-check.sh');
    expect(script).toContain('curl -sS -o /dev/null');
    expect(hostProbeScript(TOKEN, 8000)).not.toContain('functional-check.sh');
  });

  it.each(['dash', 'bash'])('under %s: every service works; each function ok, with its time and the check\'s own words', (shell) => {
    const out = stubHost().runOnHost(hostProbeScript(TOKEN, 5000, true), undefined, shell);
    const functions = functionsOf(out);
    expect(Object.keys(functions)).toEqual(['n8n', 'postgres', 'ollama', 'qdrant', 'crawl4ai']);
    expect(functions.n8n).toEqual({ state: 'ok', ms: 53, detail: 'owner ops@example.com logged in (POST /rest/login 200); 3 pre-wired credentials listed' });
    expect(Object.values(functions).every((f) => f.state === 'ok')).toBe(true);
  });

  it('a failing service (exit 1): that function fails with its reason, the others stay ok', () => {
    const host = stubHost();
    host.state.functional = { fail: { crawl4ai: 'POST /crawl answered 500 (Internal Server Error)' }, ms: { crawl4ai: 5012 } };
    const functions = functionsOf(host.runOnHost(hostProbeScript(TOKEN, 5000, true)));
    expect(functions.crawl4ai).toEqual({ state: 'fail', ms: 5012, detail: 'POST /crawl answered 500 (Internal Server Error)' });
    expect(functions.qdrant.state).toBe('ok');
  });

  it('a host without the script (an older runtime): every service "not checked", no crash', () => {
    const out = stubHost().runOnHost(hostProbeScript(TOKEN, 5000, true), '/nonexistent/functional-check.sh');
    for (const result of Object.values(functionsOf(out))) {
      expect(result).toEqual({ state: 'not checked', detail: `not checked: this host has no ${FUNCTION_CHECK_PATH} (a runtime older than the functional check; replace the host to update it)` });
    }
    // The liveness probes still ran.
    expect(parseHostProbes(out, TOKEN, 5000, true).map((r) => r.outcome)).toEqual(['up', 'up', 'up', 'up', 'up']);
  });

  it('lines that are not results are skipped; services without a result are "not checked", saying why', () => {
    const host = stubHost();
    host.state.functional = {
      raw: ['Warning: something chatty', '{"service":"postgres","ok":true,"ms":12,"detail":"answers"}', '{"service":"n8n","ok":"yes"}', '{"service":"qdrant",'],
      exit: 1,
    };
    const functions = functionsOf(host.runOnHost(hostProbeScript(TOKEN, 5000, true)));
    expect(functions.postgres).toEqual({ state: 'ok', ms: 12, detail: 'answers' });
    expect(functions.n8n).toEqual({ state: 'not checked', detail: 'not checked: the functional check reported nothing for this service (exit 1; 3 lines were not a result)' });
    expect(functions.crawl4ai.state).toBe('not checked');
  });

  it('bad configuration (exit 2): "not checked" with the check\'s own one-line reason', () => {
    const host = stubHost();
    host.state.functional = { config: 'cannot read /etc/geusemaker/runtime.env' };
    expect(functionsOf(host.runOnHost(hostProbeScript(TOKEN, 5000, true))).ollama).toEqual({
      state: 'not checked',
      detail: 'not checked: the functional check could not run (exit 2, bad usage or configuration: functional-check: cannot read /etc/geusemaker/runtime.env)',
    });
  });

  it('a flood of output stays far under SSM\'s 24,000 characters, and the results at its head still count', () => {
    const host = stubHost();
    host.state.functional = {
      raw: ['{"service":"postgres","ok":true,"ms":9,"detail":"answers"}', ...Array.from({ length: 400 }, () => `{"service":"n8n","ok":false,"detail":"${'x'.repeat(5000)}"}`)],
      stderr: 'e'.repeat(10_000),
      exit: 1,
    };
    const out = host.runOnHost(hostProbeScript(TOKEN, 5000, true));
    expect(out.length).toBeLessThan(SSM_STDOUT_LIMIT / 2);
    const functions = functionsOf(out);
    expect(functions.postgres.state).toBe('ok');
    // The cut line is no longer a whole JSON object: not trusted.
    expect(functions.n8n.state).toBe('not checked');
  });

  it('a check that ran out of time (timeout exit 124) and output that was cut short are "not checked"', () => {
    const m = `@@gm-ops:${TOKEN}`;
    expect(functionsOf(`${m} function\t{"service":"postgres","ok":true,"ms":3,"detail":"answers"}\n${m} function-exit\t124\t`).n8n.detail).toBe(
      'not checked: the functional check did not finish within 150 s',
    );
    expect(functionsOf(`${m} function\t{"service":"postgres","ok":true,"ms":3,"detail":"answers"}\n`).n8n.detail).toBe('not checked: the functional check output was cut short');
    expect(functionsOf('').n8n.detail).toBe('not checked: the host returned no functional check output');
  });
});

describe('gm-ops health --deep (in process, fake AWS, the real script under sh)', () => {
  let aws: FakeAws;
  beforeEach(() => {
    aws = new FakeAws();
  });
  afterEach(() => aws.restore());
  const onHost = (instanceId: string, host: StubHost, functionalCheck?: string) => aws.hosts.set(instanceId, (script) => host.runOnHost(script, functionalCheck));
  const row = (stdout: string, deployment: string, service: string) => stdout.split('\n').find((l) => new RegExp(`^${deployment}\\s+${service}\\s`).test(l)) ?? '';

  it('every service up and working: a FUNCTION column beside the liveness, exit 0, one SSM command', async () => {
    aws.addDeployment({ name: 'good', host: { id: 'i-good' } });
    onHost('i-good', stubHost());
    const result = await runWith({ clients: aws.clients() }, 'health', 'good', '--deep');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^DEPLOYMENT\s+SERVICE\s+CHECK\s+STATE\s+LATENCY\s+FUNCTION\s+DETAIL$/);
    expect(row(result.stdout, 'good', 'n8n')).toMatch(
      /http \/healthz\/readiness\s+OK\s+12 ms\s+ok 53 ms\s+HTTP 200 \/healthz\/readiness · docker healthy · function: owner ops@example.com logged in/,
    );
    expect(row(result.stdout, 'good', 'host')).toMatch(/ec2\s+OK\s+-\s+-\s+i-good running/);
    expect(aws.scripts).toHaveLength(1);
    expect(aws.ssm.commandCalls(SendCommandCommand)[0].args[0].input.Parameters?.executionTimeout).toEqual(['180']);
  });

  it('a service that is up but does not work is unhealthy: FAIL, exit 1; --json carries the function', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-web' } });
    const host = stubHost();
    host.state.functional = { fail: { crawl4ai: 'POST /crawl answered 500 (Internal Server Error)' } };
    onHost('i-web', host);
    const table = await runWith({ clients: aws.clients() }, 'health', 'web', '--deep');
    expect(table.code).toBe(1);
    expect(row(table.stdout, 'web', 'crawl4ai')).toMatch(/http \/health\s+FAIL\s+20 ms\s+FAIL 92 ms\s+HTTP 200 \/health · docker healthy · function: POST \/crawl answered 500/);
    expect(row(table.stdout, 'web', 'qdrant')).toMatch(/OK\s+3 ms\s+ok/);

    const json = await runWith({ clients: aws.clients() }, 'health', 'web', '--deep', '--json');
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ deep: true, healthy: false });
    const crawl = doc.services.find((s: { service: string }) => s.service === 'crawl4ai');
    expect(crawl).toMatchObject({ state: 'FAIL', function: { state: 'fail', ok: false, ms: 92, detail: 'POST /crawl answered 500 (Internal Server Error)' } });
    expect(doc.services.find((s: { service: string }) => s.service === 'host').function).toBeNull();
  });

  it('an older host without the check: every service "not checked" and unhealthy, exit 1', async () => {
    aws.addDeployment({ name: 'old', host: { id: 'i-old' } });
    onHost('i-old', stubHost(), '/nonexistent/functional-check.sh');
    const result = await runWith({ clients: aws.clients() }, 'health', 'old', '--deep');
    expect(result.code).toBe(1);
    expect(row(result.stdout, 'old', 'postgres')).toMatch(/pg_isready\s+FAIL\s+\d+ ms\s+not checked\s+accepting connections · docker healthy · not checked: this host has no/);
  });

  it('without --deep nothing changes: no functional check, no FUNCTION column', async () => {
    aws.addDeployment({ name: 'good', host: { id: 'i-good' } });
    aws.hosts.set('i-good', (script) => `${healthyProbeLines(tokenOf(script))}\n${containerLines(tokenOf(script), ALL_RUNNING)}`);
    const result = await runWith({ clients: aws.clients() }, 'health', 'good');
    expect(result.stdout).not.toContain('FUNCTION');
    expect(aws.scripts[0].script).not.toContain('functional-check');
  });

  it('--watch --deep: every round runs the check; a function failing three rounds in a row is CRITICAL', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-web' } });
    const host = stubHost();
    host.state.functional = { fail: { qdrant: 'upsert answered 403 (wrong API key)' } };
    // The host answers the same every round: run the script once for real, then answer its output under each round's marker.
    let first: { token: string; stdout: string } | undefined;
    aws.hosts.set('i-web', (script) => {
      first ??= { token: tokenOf(script), stdout: host.runOnHost(script) };
      return first.stdout.split(first.token).join(tokenOf(script));
    });
    // The SSM polls sleep too (a few seconds at most): stop at the third wait between rounds.
    const harness = new Harness({ clients: aws.clients(), onSleep: (_ms, h) => (h.sleeps.filter((ms) => ms > 20_000).length >= 3 || h.sleeps.length > 100 ? h.abort() : undefined) });
    const result = await harness.run('health', 'web', '--deep', '--watch', '--json');
    const rounds = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const qdrant = rounds.map((r) => r.services.find((s: { service: string }) => s.service === 'qdrant'));
    expect(qdrant.map((s) => `${s.state}/${s.consecutiveFailures}/${s.function.state}`)).toEqual(['FAIL/1/fail', 'FAIL/2/fail', 'CRITICAL/3/fail']);
    expect(aws.scripts.every((s) => s.script.includes('functional-check.sh'))).toBe(true);
    expect(aws.scripts).toHaveLength(3);
    expect(result.code).toBe(1);
  });

  it('--deep with --direct: a usage error, one line, exit 2', async () => {
    const result = await runWith({ clients: aws.clients() }, 'health', 'web', '--deep', '--direct');
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'gm-ops: --deep cannot be combined with --direct: the functional check runs on the host, through SSM — drop --direct (see `gm-ops health --help`)\n',
    });
  });
});

describe('gm-ops health --deep (the real entry point, AWS mocked in the child, the script run under sh)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-deep-bin-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const fixture = (functional: StubState['functional']) => {
    const stateFile = path.join(tmp, `state-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(stateFile, JSON.stringify({ ...healthyHost(), functional }));
    return {
      stacks: [
        { name: 'GeuseDev-web', status: 'CREATE_COMPLETE', outputs: { AutoScalingGroupName: 'asg-web', Tier: 'dev' }, tags: { 'geuse:deployment': 'web', 'geuse:tier': 'dev' } },
        { name: 'GeuseData-web', status: 'CREATE_COMPLETE', tags: { 'geuse:deployment': 'web', 'geuse:tier': 'data' } },
      ],
      groups: { 'asg-web': { instances: [{ id: 'i-0abc' }] } },
      instances: { 'i-0abc': { state: 'running' } },
      healthyHosts: ['i-0abc'],
      stubHost: { stateFile, functionalCheck: path.join(__dirname, 'helpers', 'fake-runtime', 'functional-check.sh') },
    };
  };

  it('healthy and working: the FUNCTION column, exit 0', async () => {
    const result = await gmOpsWithFakeAws(tmp, fixture(undefined), ['health', 'web', '--deep']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/web\s+qdrant\s+http \/readyz\s+OK\s+3 ms\s+ok 66 ms\s+HTTP 200 \/readyz · docker healthy · function: scratch collection created/);
  });

  it('n8n up but its owner cannot log in: exit 1, the reason in the row', async () => {
    const result = await gmOpsWithFakeAws(tmp, fixture({ fail: { n8n: 'POST /rest/login answered 401' } }), ['health', 'web', '--deep']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/web\s+n8n\s+http \/healthz\/readiness\s+FAIL\s+12 ms\s+FAIL 53 ms\s+.*function: POST \/rest\/login answered 401/);
  });

  it('--deep --direct: exit 2, one line on stderr', async () => {
    const result = await gmOpsWithFakeAws(tmp, fixture(undefined), ['health', 'web', '--deep', '--direct']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^gm-ops: --deep cannot be combined with --direct/);
  });
});
