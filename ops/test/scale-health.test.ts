/**
 * `gm-ops health` with a scale deployment among others, with --direct and under --replace-on-critical: the scale
 * deployment is checked as what it is (entry, ECS services, database, queue, AI host and its services), never as a
 * single host running n8n and PostgreSQL. AWS through FakeAws and the shared scale fake (helpers/fake-scale.ts), the
 * entry a real local server, every wait on the harness's fake clock.
 */
import { SetInstanceHealthCommand } from '@aws-sdk/client-auto-scaling';
import type { Prompt } from '../src/context';
import { FakeAws } from './helpers/fake-aws';
import { healthyProbeLines } from './helpers/fake-aws-data';
import { addScaleDeployment, aiHostAnswer, type ScaleDeployment } from './helpers/fake-scale';
import { Harness, runWith, type RunResult } from './helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';
import { httpServer, type LocalServer } from './helpers/local-servers';

let aws: FakeAws;
let entry: LocalServer;
let big: ScaleDeployment;

beforeEach(async () => {
  aws = new FakeAws();
  entry = await httpServer('ok');
  aws.asg.on(SetInstanceHealthCommand).resolves({});
  big = addScaleDeployment(aws, { name: 'big', entryUrl: entry.url, webhooks: 1 });
  aws.addDeployment({ name: 'small', host: { id: 'i-small' } });
  aws.hosts.set('i-small', (script) => `${healthyProbeLines(tokenOf(script))}\n${containerLines(tokenOf(script), ALL_RUNNING)}`);
});
afterEach(async () => {
  aws.restore();
  await entry.close();
});

const clients = () => ({ ...aws.clients(), scale: big.scale }) as never;
const run = (...args: string[]): Promise<RunResult> => runWith({ clients: clients() }, ...args);

/** The table rows of one deployment, as "service check STATE". */
function rowsOf(stdout: string, deployment: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`${deployment} `))
    .map((line) => line.split(/\s{2,}/).slice(1, 4).join(' '));
}

describe('every deployment (no names) and several names', () => {
  it('the scale deployment gets its own checks, the host tier its own; one report, exit 0 when all work', async () => {
    const result = await run('health');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(rowsOf(result.stdout, 'big')).toEqual([
      'entry http /healthz/readiness OK',
      'main ecs tasks OK',
      'worker ecs tasks OK',
      'webhook ecs tasks OK',
      'database rds OK',
      'queue elasticache OK',
      'ai-host ec2 OK',
      'ollama http /api/version OK',
      'qdrant http /readyz OK',
      'crawl4ai http /health OK',
    ]);
    expect(rowsOf(result.stdout, 'small').map((r) => r.split(' ')[0])).toEqual(['host', 'n8n', 'postgres', 'ollama', 'qdrant', 'crawl4ai']);
    expect(result.stdout).toMatch(/big\s+worker\s+ecs tasks\s+OK\s+-\s+1\/1 running, 1 ready, 1 spot/);
    expect(result.stdout).toMatch(/big\s+database\s+rds\s+OK\s+-\s+available db\.abc\.eu-west-1\.rds\.amazonaws\.com:5432/);
    // n8n main's readiness through the entry URL, once per round.
    expect(entry.requests).toBe(1);
    // The AI host got the probe script; the host tier's host too.
    expect(aws.scripts.map((s) => s.instanceIds)).toEqual(expect.arrayContaining([['i-ai'], ['i-small']]));
  });

  it('a worker short of its tasks fails the scale deployment only, and the exit code', async () => {
    big.scale.services.get(big.services.worker)!.running = 0;
    const result = await run('health', 'big', 'small');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/big\s+worker\s+ecs tasks\s+FAIL\s+-\s+0 of 1 tasks running/);
    expect(rowsOf(result.stdout, 'small').every((r) => r.endsWith(' OK'))).toBe(true);
  });

  it('--json: each deployment with its tier and verdict, each row with its tier', async () => {
    big.scale.dbStatus = 'storage-full';
    const result = await run('health', 'big', 'small', '--json');
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.deployments).toEqual([
      { deployment: 'big', tier: 'scale', healthy: false },
      { deployment: 'small', tier: 'dev', healthy: true },
    ]);
    expect(doc.services.find((s: { deployment: string; service: string }) => s.deployment === 'big' && s.service === 'database')).toMatchObject({
      tier: 'scale',
      check: 'rds',
      state: 'FAIL',
      detail: 'the database is storage-full',
    });
    expect(doc.services.filter((s: { deployment: string }) => s.deployment === 'big').map((s: { service: string }) => s.service)).not.toContain('postgres');
  });

  it('--deep: the AI host runs its functional check for its three services and n8n (through the load balancer); a failing function fails the round', async () => {
    aws.hosts.set('i-ai', (script) => aiHostAnswer(script, { failing: { qdrant: 'upsert answered 403 (wrong API key)' } }));
    const result = await run('health', 'big', 'small', '--deep');
    expect(result.code).toBe(1);
    expect(aws.scripts.find((s) => s.instanceIds.includes('i-ai'))!.script).toMatch(/functional-check\.sh'? --json --service '?ollama'? --service '?qdrant'? --service '?crawl4ai'? --service '?n8n'?/);
    expect(result.stdout).toMatch(/big\s+n8n\s+owner login via the load balancer\s+OK\s+12 ms\s+-\s+owner owner@example\.com logged in and sees the 3 pre-wired credentials/);
    expect(result.stdout).toMatch(/big\s+qdrant\s+http \/readyz\s+FAIL\s+4 ms\s+FAIL 12 ms\s+HTTP 200 \/readyz · docker healthy · function: upsert answered 403/);
    expect(result.stdout).toMatch(/big\s+ollama\s+http \/api\/version\s+OK\s+4 ms\s+ok 12 ms/);
  });

  it('--deep: n8n failing its functional check (the owner cannot log in) fails the scale deployment, and is not the AI host\'s fault', async () => {
    aws.hosts.set('i-ai', (script) => aiHostAnswer(script, { failing: { n8n: 'credentials missing for the owner: Qdrant (GeuseMaker) (qdrantApi)' } }));
    const result = await run('health', 'big', '--deep', '--json');
    expect(result.code).toBe(1);
    // One scale deployment alone: its own report.
    const doc = JSON.parse(result.stdout);
    expect(doc.healthy).toBe(false);
    expect(doc.checks.find((c: { part: string }) => c.part === 'n8n')).toEqual({
      part: 'n8n', ok: false, latencyMs: 12, detail: 'function fail: credentials missing for the owner: Qdrant (GeuseMaker) (qdrantApi)',
    });
    for (const part of ['ollama', 'qdrant', 'crawl4ai']) expect(doc.checks.find((c: { part: string }) => c.part === part).ok).toBe(true);
    // Among others: a row of the common report, outside the rows a new AI host could fix.
    const among = JSON.parse((await run('health', 'big', 'small', '--deep', '--json')).stdout);
    expect(among.services.find((s: { deployment: string; service: string }) => s.deployment === 'big' && s.service === 'n8n')).toMatchObject({
      tier: 'scale', check: 'owner login via the load balancer', state: 'FAIL',
    });
  });

  it('an AI host whose SSM agent lost its connection: no evidence about its services (UNKNOWN), the rest still checked', async () => {
    aws.agents.set('i-ai', 'ConnectionLost');
    const result = await run('health', 'big', 'small');
    expect(result.code).toBe(1);
    expect(rowsOf(result.stdout, 'big')).toEqual([
      'entry http /healthz/readiness OK',
      'main ecs tasks OK',
      'worker ecs tasks OK',
      'webhook ecs tasks OK',
      'database rds OK',
      'queue elasticache OK',
      'ai-host ec2 OK',
      'ai-host ssm UNKNOWN',
    ]);
  });
});

describe('--direct', () => {
  it('probes the entry from here; the ECS services, the database, the queue and the AI services are private: skipped, saying so', async () => {
    const result = await run('health', 'big', '--direct');
    expect(result.code).toBe(0);
    const port = new URL(entry.url).port;
    expect(rowsOf(result.stdout, 'big')).toEqual([
      'ai-host ec2 OK',
      `entry tcp ${port} OK`,
      'entry http /healthz/readiness OK',
      'main ecs tasks SKIP',
      'worker ecs tasks SKIP',
      'webhook ecs tasks SKIP',
      'database rds SKIP',
      'queue elasticache SKIP',
      'ollama http /api/version SKIP',
      'qdrant http /readyz SKIP',
      'crawl4ai http /health SKIP',
    ]);
    expect(result.stdout).toMatch(/big\s+ollama\s+http \/api\/version\s+SKIP\s+-\s+not exposed \(the AI host is private: only the n8n tasks reach it\); drop --direct to probe it through SSM/);
    expect(result.stdout).toMatch(/big\s+database\s+rds\s+SKIP\s+-\s+not exposed \(RDS in the VPC, for the n8n tasks only\); drop --direct to read it from RDS/);
    // Nothing through SSM, nothing from the ECS, RDS or ElastiCache APIs.
    expect(aws.scripts).toEqual([]);
    expect(entry.requests).toBe(1);
  });

  it('n8n main not ready behind the entry: FAIL, exit 1', async () => {
    entry.behaviour = 'fail';
    const result = await run('health', 'big', '--direct');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/big\s+entry\s+http \/healthz\/readiness\s+FAIL\s+\d+ ms\s+http:\/\/127\.0\.0\.1:\d+\/healthz\/readiness: HTTP 503/);
  });
});

describe('--watch --replace-on-critical', () => {
  /** Stops after `rounds` rounds (the watch sleeps about --interval between them; the SSM polls sleep under a second). */
  const watching = (rounds: number, prompt?: Prompt) =>
    new Harness({
      clients: clients(),
      prompt,
      onSleep: (ms, h) => {
        if (ms >= 5000 && h.sleeps.filter((s) => s >= 5000).length >= rounds) h.abort();
      },
    });
  const replacements = () => aws.asg.commandCalls(SetInstanceHealthCommand).map((c) => c.args[0].input);

  it('n8n workers failing 3 rounds in a row: no host is replaced, and it says ECS replaces failing tasks (once)', async () => {
    big.scale.services.get(big.services.worker)!.unhealthy = 1;
    const result = await watching(5).run('health', 'big', '--watch', '--interval', '10s', '--replace-on-critical', '--yes');
    expect(replacements()).toEqual([]);
    expect(result.stdout).toMatch(/big\s+worker\s+ecs tasks\s+CRITICAL\s+-\s+1 task unhealthy/);
    expect(result.stderr.split('\n').filter((l) => l.includes('replacing a host would not fix'))).toEqual([
      'gm-ops: big: worker failed 3 checks in a row; replacing a host would not fix it (ECS replaces an n8n task whose container health check fails (the service scheduler), RDS and ElastiCache look after the database and the queue): see `gm-ops status big`',
    ]);
  });

  it('an AI service failing 3 rounds in a row: asks, then marks the AI host Unhealthy, as on the host tiers', async () => {
    aws.hosts.set('i-ai', (script) => aiHostAnswer(script, { down: ['crawl4ai'] }));
    const asked: string[] = [];
    const prompt: Prompt = { available: true, confirm: async (question) => (asked.push(question), true) };
    const result = await watching(4, prompt).run('health', 'big', '--watch', '--interval', '10s', '--replace-on-critical');
    expect(asked).toEqual(['Replace host i-ai of big (crawl4ai failed 3 checks in a row)?']);
    expect(replacements()).toEqual([{ InstanceId: 'i-ai', HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }]);
    expect(result.stderr).toContain('big: host i-ai marked Unhealthy (crawl4ai failed 3 checks in a row): its auto scaling group replaces it');
  });

  it('a healthy scale deployment is never replaced (n8n and PostgreSQL are not on its AI host)', async () => {
    const result = await watching(4).run('health', 'big', '--watch', '--interval', '10s', '--replace-on-critical', '--yes');
    expect(replacements()).toEqual([]);
    expect(result.stdout).not.toMatch(/postgres|FAIL|CRITICAL/);
  });
});

it('--help says how a scale deployment is checked and what --replace-on-critical does there', async () => {
  const help = await runWith({}, 'health', '--help');
  expect(help.code).toBe(0);
  const text = help.stdout.replace(/\s+/g, ' ');
  expect(text).toContain('A scale deployment is not one host');
  expect(text).toContain('On a scale deployment only the AI host can be replaced');
  expect(text).toContain('ECS already replaces an n8n task whose container health check fails');
});
