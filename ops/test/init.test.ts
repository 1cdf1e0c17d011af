/** `gm-ops init`: a first deployment written into cdk.json, unattended and at a terminal. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { deploymentSchema } from '../../lib/config/schema';
import { STORED_SECRET_PURPOSES } from '../src/contract';
import { Decimal } from '../src/cost/decimal';
import { loadOfflineTable, parseOfflineTable } from '../src/cost/offline-table';
import { money } from '../src/cost/render';
import type { Questions } from '../src/init/questions';
import { tierMonthlyCosts } from '../src/init/tier-cost';
import { FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-init-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let project: string;
let cdkJson: string;
let counter = 0;
beforeEach(() => {
  project = path.join(tmp, `project-${(counter += 1)}`);
  fs.mkdirSync(project);
  cdkJson = path.join(project, 'cdk.json');
  fs.writeFileSync(
    cdkJson,
    `${JSON.stringify({ app: 'npx tsx bin/geusemaker.ts', context: { 'geusemaker:deployments': { 'my-stack': { tier: 'dev' } }, '@aws-cdk/core:flag': true } }, null, 2)}\n`,
  );
});

const saved = () => JSON.parse(fs.readFileSync(cdkJson, 'utf8'));

/** Answers in order, recording the questions. */
function answering(...answers: string[]): Questions & { asked: string[] } {
  const asked: string[] = [];
  return {
    available: true,
    asked,
    ask: async (question, defaultAnswer) => {
      asked.push(question);
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected question: ${question}`);
      return answer || defaultAnswer || '';
    },
  };
}

describe('gm-ops init, unattended', () => {
  it('writes the deployment into cdk.json, keeps everything else, ends with the deploy command', async () => {
    const result = await runWith(
      { cwd: project },
      'init', '--name', 'team-n8n', '--tier', 'automation', '--owner-email', 'ops@example.com', '--allowed-cidr', '203.0.113.0/24', '--market', 'on-demand',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`wrote "team-n8n" (automation) into ${cdkJson}\ndeploy it with:\n  npx cdk deploy GeuseAutomation-team-n8n\n`);
    const context = saved().context;
    expect(context['@aws-cdk/core:flag']).toBe(true);
    expect(context['geusemaker:deployments']['my-stack']).toEqual({ tier: 'dev' });
    expect(context['geusemaker:deployments']['team-n8n']).toEqual({
      tier: 'automation',
      market: 'on-demand',
      allowedCidrs: ['203.0.113.0/24'],
      n8nOwnerEmail: 'ops@example.com',
    });
  });

  it('what it writes passes the schema synth uses', async () => {
    await runWith({ cwd: project }, 'init', '--name', 'lab', '--tier', 'dev', '--owner-email', 'me@example.org', '--allowed-cidr', '198.51.100.7/32');
    expect(deploymentSchema.safeParse(saved().context['geusemaker:deployments'].lab).success).toBe(true);
  });

  it('never replaces a declared deployment without --force', async () => {
    const before = fs.readFileSync(cdkJson, 'utf8');
    const refused = await runWith({ cwd: project }, 'init', '--name', 'my-stack', '--tier', 'gpu', '--owner-email', 'ops@example.com');
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(`gm-ops: deployment "my-stack" is already declared in ${cdkJson}: not replaced — pass --force to replace its entry, or choose another --name\n`);
    expect(fs.readFileSync(cdkJson, 'utf8')).toBe(before);
    const forced = await runWith({ cwd: project }, 'init', '--name', 'my-stack', '--tier', 'gpu', '--owner-email', 'ops@example.com', '--force');
    expect(forced.code).toBe(0);
    expect(saved().context['geusemaker:deployments']['my-stack']).toEqual({ tier: 'gpu', n8nOwnerEmail: 'ops@example.com' });
  });

  it('a missing answer without a terminal: the flag to pass (exit 2)', async () => {
    const result = await runWith({ cwd: project }, 'init', '--name', 'lab');
    expect(result).toMatchObject({ code: 2, stderr: "gm-ops: --owner-email is required when nobody is at the terminal (the n8n owner's login) — see `gm-ops init --help`\n" });
  });

  it.each([
    [['--allowed-cidr', '0.0.0.0/0'], 'allowedCidrs.0: expected specific networks such as 203.0.113.0/24, not /0 (every address)'],
    [['--allowed-cidr', '203.0.113.7/24'], 'allowedCidrs.0: host bits are set in 203.0.113.7/24; expected the network address 203.0.113.0/24'],
    [['--tier', 'huge'], 'tier: expected one of dev, automation, gpu, scale'],
    [['--market', 'cheap'], 'market: expected one of spot, on-demand'],
  ])('refuses %j with the rule synth applies (exit 2, cdk.json untouched)', async (extra, message) => {
    const before = fs.readFileSync(cdkJson, 'utf8');
    const result = await runWith({ cwd: project }, 'init', '--name', 'lab', '--owner-email', 'ops@example.com', ...extra);
    expect(result).toMatchObject({ code: 2, stderr: `gm-ops: invalid ${message} — see \`gm-ops init --help\`\n` });
    expect(fs.readFileSync(cdkJson, 'utf8')).toBe(before);
  });

  it('outside a GeuseMaker project: one line, exit 1', async () => {
    const result = await runWith({ cwd: tmp }, 'init', '--name', 'lab', '--owner-email', 'ops@example.com');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gm-ops: no GeuseMaker project here/);
  });
});

describe('gm-ops init at a terminal', () => {
  it('asks each question, lists the tiers and the existing VPCs, writes what was answered', async () => {
    const aws = new FakeAws();
    try {
      aws.ec2.on(DescribeVpcsCommand).resolves({
        Vpcs: [{ VpcId: 'vpc-0abc1234def567890', CidrBlock: '10.20.0.0/16', IsDefault: false, Tags: [{ Key: 'Name', Value: 'shared' }] }],
      });
      const questions = answering('team-n8n', 'automation', 'vpc-0abc1234def567890', '123456789012', '', '203.0.113.0/24, 198.51.100.0/24', 'ops@example.com');
      const result = await runWith({ cwd: project, clients: aws.clients(), questions }, 'init');
      expect(result.code).toBe(0);
      expect(questions.asked).toHaveLength(7);
      expect(result.stdout).toMatch(/^ {2}automation\s+one host behind a load balancer/m);
      expect(result.stdout).toMatch(/^ {2}vpc-0abc1234def567890\s+10\.20\.0\.0\/16\s+shared$/m);
      expect(result.stdout).toContain('npx cdk deploy GeuseAutomation-team-n8n');
      expect(saved().context['geusemaker:deployments']['team-n8n']).toEqual({
        tier: 'automation',
        allowedCidrs: ['203.0.113.0/24', '198.51.100.0/24'],
        n8nOwnerEmail: 'ops@example.com',
        env: { account: '123456789012', region: 'eu-west-1' },
        vpcId: 'vpc-0abc1234def567890',
      });
    } finally {
      aws.restore();
    }
  });
});

describe('gm-ops init: what each tier costs a month', () => {
  const table = loadOfflineTable();
  /** Host (first instance type, on-demand, 730 h) + gp3 root volume + its public IPv4 + the 2 stored secrets (+ an ALB behind CloudFront). */
  const byHand = (region: string, instanceType: string, rootGiB: number, loadBalancer: boolean, prices = table): Decimal => {
    const at = (key: string) => prices.lookup(region, key, false)![0].price;
    return at(`ec2:${instanceType}`).mul(730)
      .add(at('ebs:gp3:storage').mul(rootGiB))
      .add(at('vpc:public-ipv4').mul(730))
      .add(at('secrets:secret').mul(STORED_SECRET_PURPOSES.length))
      .add(loadBalancer ? at('elb:alb').mul(730) : Decimal.ZERO);
  };

  it('the tier table at the terminal shows each tier at its on-demand ceiling from the shipped table, in us-east-1 by default', async () => {
    const questions = answering('lab', 'dev', '', '', 'ops@example.com');
    const result = await runWith({ cwd: project, questions }, 'init');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}TIER\s+WHAT\s+FOR\s+MONTHLY$/m);
    // arm64 by default: the ceiling is the dearest type offered, r6g.large; 30 GiB root volume on the CPU tiers.
    expect(result.stdout).toMatch(new RegExp(`^ {2}dev\\s+.*\\s${money(byHand('us-east-1', 'r6g.large', 30, false)).replace(/[$.]/g, '\\$&')}/month$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^ {2}automation\\s+.*\\s${money(byHand('us-east-1', 'r6g.large', 30, true)).replace(/[$.]/g, '\\$&')}/month$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^ {2}gpu\\s+.*\\s${money(byHand('us-east-1', 'g5.xlarge', 100, true)).replace(/[$.]/g, '\\$&')}/month$`, 'm'));
    // The scale tier has its figure too (cost-scale.test.ts holds it equal to cost --template on its synthesized stacks).
    const scale = (await tierMonthlyCosts('us-east-1')).monthly.scale!;
    expect(scale.cmp(byHand('us-east-1', 'r6g.large', 30, true))).toBeGreaterThan(0);
    expect(result.stdout).toMatch(new RegExp(`^ {2}scale\\s+n8n in queue mode on ECS Fargate.*\\s${money(scale).replace(/[$.]/g, '\\$&')}/month$`, 'm'));
    expect(result.stdout).not.toContain('see gm-ops cost --template');
    expect(result.stdout).toContain(`(monthly: the on-demand ceiling in us-east-1, from the shipped price table as of ${table.asOf}`);
    expect(result.stdout).toContain('scale with its workers at their minimum, 1, each further worker adds to it');
  });

  it('in the chosen region when the table has every price the tiers need there; us-east-1 when it does not', async () => {
    // The shipped table has no arm64 on-demand prices outside us-east-1 (no dated source): not a partial eu-west-1 figure.
    expect(table.lookup('eu-west-1', 'ec2:m6g.large', false)).toBeUndefined();
    expect((await tierMonthlyCosts('eu-west-1')).region).toBe('us-east-1');
    const raw = JSON.parse(fs.readFileSync(table.path, 'utf8'));
    for (const type of ['m6g.large', 'm7g.large', 'm6gd.large']) raw.regions['eu-west-1'][`ec2:${type}`] = '0.1';
    raw.regions['eu-west-1']['ec2:r6g.large'] = '0.5';
    raw.regions['eu-west-1']['ec2:g6.xlarge'] = '0.9'; // no dated eu-west-1 source in the shipped table either
    // Nor for the scale tier's Fargate, RDS, ElastiCache and CloudWatch rows: without them eu-west-1 is still incomplete.
    const scaleKeys = Object.keys(raw.regions['us-east-1']).filter((key) => /^(fargate|rds|elasticache|cloudwatch):/.test(key));
    expect(scaleKeys.filter((key) => key in raw.regions['eu-west-1'])).toEqual([]);
    expect((await tierMonthlyCosts('eu-west-1', parseOfflineTable(JSON.stringify(raw), 'no-scale.json'))).region).toBe('us-east-1');
    for (const key of scaleKeys) raw.regions['eu-west-1'][key] = raw.regions['us-east-1'][key];
    const completed = parseOfflineTable(JSON.stringify(raw), 'completed.json');
    const eu = await tierMonthlyCosts('eu-west-1', completed);
    expect(eu.region).toBe('eu-west-1');
    expect(eu.monthly.dev?.toString()).toBe(byHand('eu-west-1', 'r6g.large', 30, false, completed).toString());
    const elsewhere = await tierMonthlyCosts('ap-south-2');
    expect(elsewhere.region).toBe('us-east-1');
    expect(elsewhere.monthly.gpu?.toString()).toBe(byHand('us-east-1', 'g5.xlarge', 100, true).toString());
    expect(elsewhere.monthly.scale?.toString()).toBe((await tierMonthlyCosts('us-east-1')).monthly.scale?.toString());
  });

  it('the figures follow the table (none is written in the code): doubled prices, doubled figures', async () => {
    const raw = JSON.parse(fs.readFileSync(table.path, 'utf8'));
    const double = (value: unknown): unknown =>
      typeof value === 'string' ? Decimal.parse(value).mul(2).toString() : Array.isArray(value) ? value.map((tier: { price: string }) => ({ ...tier, price: double(tier.price) })) : value;
    for (const rows of [raw.regions['us-east-1'], raw.global] as Record<string, unknown>[]) for (const [key, value] of Object.entries(rows)) rows[key] = double(value);
    const doubled = await tierMonthlyCosts('us-east-1', parseOfflineTable(JSON.stringify(raw), 'doubled.json'));
    const shipped = await tierMonthlyCosts('us-east-1');
    for (const tier of ['dev', 'automation', 'gpu', 'scale'] as const) expect(doubled.monthly[tier]?.toString()).toBe(shipped.monthly[tier]?.mul(2).toString());
  });
});
