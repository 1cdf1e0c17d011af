/**
 * `gm-ops init`: a first deployment declared in cdk.json ("geusemaker:deployments"), from flags or,
 * at a terminal, from questions; never replaces a declared deployment without --force; ends with the
 * exact deploy command.
 */
import * as fs from 'node:fs';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import type { CommandIO } from '../command-io';
import { TIERS, computeStackName, type Tier } from '../contract';
import { money } from '../cost/render';
import { ExitCode, OpsError, UsageProblem } from '../errors';
import { renderTable } from '../output/table';
import { findProject } from '../restore/project';
import { answersProblem, deploymentEntry, MARKETS, type InitAnswers } from './entry';
import type { Questions } from './questions';
import { tierMonthlyCosts } from './tier-cost';

export const DEPLOYMENTS_KEY = 'geusemaker:deployments';

export interface InitOptions {
  readonly name?: string;
  readonly tier?: string;
  readonly market?: string;
  readonly allowedCidrs?: readonly string[];
  readonly ownerEmail?: string;
  readonly vpcId?: string;
  readonly account?: string;
  readonly region?: string;
  readonly force: boolean;
  readonly questions?: Questions;
}

const TIER_TABLE: Record<Tier, [string, string]> = {
  dev: ['one host, n8n through SSM port forwarding (or HTTPS to allowed CIDRs)', 'trying it out, one person'],
  automation: ['one host behind a load balancer and CloudFront (HTTPS)', 'workflows others reach'],
  gpu: ['one GPU host behind a load balancer and CloudFront (HTTPS)', 'local LLMs at speed'],
  scale: ['n8n in queue mode on ECS Fargate (Spot workers), RDS and Valkey; the AI services on one host (HTTPS)', 'teams whose workflows outgrow one host'],
};

const nobody = (flag: string, what: string) =>
  new UsageProblem(`${flag} is required when nobody is at the terminal (${what})`, 'see `gm-ops init --help`');

async function existingVpcs(io: CommandIO): Promise<string | undefined> {
  try {
    const response = await io.aws().ec2.send(new DescribeVpcsCommand({}));
    const rows = (response.Vpcs ?? []).map((vpc) => [
      vpc.VpcId ?? '',
      vpc.CidrBlock ?? '',
      vpc.Tags?.find((t) => t.Key === 'Name')?.Value ?? '',
      vpc.IsDefault ? 'default' : '',
    ]);
    return rows.length ? renderTable(['VPC', 'CIDR', 'NAME', ''], rows, io.style, '  ') : undefined;
  } catch {
    return undefined; // no credentials or no permission: a new VPC it is, unless one is named
  }
}

async function gather(io: CommandIO, options: InitOptions): Promise<Record<string, unknown>> {
  const questions = options.questions?.available ? options.questions : undefined;
  const name = options.name ?? (questions ? await questions.ask('Deployment name (lowercase letters, digits, hyphens):') : undefined);
  if (!name) throw nobody('--name', 'the deployment name');
  let tier = options.tier;
  if (tier === undefined && questions) {
    const costs = await tierMonthlyCosts(options.region);
    io.notice('tiers:');
    io.write(renderTable(['TIER', 'WHAT', 'FOR', 'MONTHLY'], TIERS.map((t) => [t, ...TIER_TABLE[t], costs.monthly[t] ? `${money(costs.monthly[t]!)}/month` : 'see gm-ops cost --template']), io.style, '  '));
    io.write(
      `  (monthly: the on-demand ceiling in ${costs.region}, from the shipped price table as of ${costs.asOf}; spot costs less, and traffic and storage add to it;` +
        ' scale with its workers at their minimum, 1, each further worker adds to it.' +
        ' For your exact stack: `npx cdk synth` then `gm-ops cost --template cdk.out/<stack>.template.json`)\n',
    );
    tier = await questions.ask(`Tier (${TIERS.join(', ')}):`, 'dev');
  }
  let vpcId = options.vpcId;
  if (vpcId === undefined && questions) {
    const vpcs = await existingVpcs(io);
    if (vpcs) {
      io.write(vpcs);
      vpcId = (await questions.ask('Existing VPC id (empty: a new VPC):', '')) || undefined;
    }
  }
  let account = options.account;
  if (vpcId && account === undefined && questions) account = await questions.ask('AWS account id of that VPC (12 digits):');
  const market = options.market ?? (questions ? await questions.ask(`Market (${MARKETS.join(', ')}):`, 'spot') : 'spot');
  let allowedCidrs = options.allowedCidrs && options.allowedCidrs.length > 0 ? [...options.allowedCidrs] : undefined;
  if (allowedCidrs === undefined && questions) {
    const answer = await questions.ask('Allowed CIDRs, comma-separated (empty: none on dev, everyone on automation/gpu):', '');
    allowedCidrs = answer.split(',').map((c) => c.trim()).filter(Boolean);
  }
  const ownerEmail = options.ownerEmail ?? (questions ? await questions.ask("n8n owner's email:") : undefined);
  if (!ownerEmail) throw nobody('--owner-email', "the n8n owner's login");
  return {
    name,
    tier: tier ?? 'dev',
    market,
    allowedCidrs: allowedCidrs ?? [],
    n8nOwnerEmail: ownerEmail,
    vpcId,
    account,
    region: vpcId ? (options.region ?? (await io.aws().region())) : options.region,
  };
}

export async function runInit(io: CommandIO, options: InitOptions): Promise<number> {
  const project = findProject(io.services.cwd());
  if (!project) {
    throw new OpsError('no GeuseMaker project here (a cdk.json whose app is the GeuseMaker CDK app)', 'run `gm-ops init` inside your clone of the project');
  }
  const cdk = JSON.parse(fs.readFileSync(project.cdkJson, 'utf8')) as { context?: Record<string, unknown> };
  const context = (cdk.context ??= {});
  const deployments = (context[DEPLOYMENTS_KEY] ??= {}) as Record<string, unknown>;

  const answers = await gather(io, options);
  const problem = answersProblem(answers);
  if (problem) throw new UsageProblem(`invalid ${problem}`, 'see `gm-ops init --help`');
  const checked = answers as InitAnswers;
  if (Object.prototype.hasOwnProperty.call(deployments, checked.name) && !options.force) {
    throw new OpsError(`deployment "${checked.name}" is already declared in ${project.cdkJson}: not replaced`, 'pass --force to replace its entry, or choose another --name');
  }
  deployments[checked.name] = deploymentEntry(checked);
  fs.writeFileSync(project.cdkJson, `${JSON.stringify(cdk, null, 2)}\n`);
  const stack = computeStackName(checked.tier, checked.name);
  io.write(`wrote "${checked.name}" (${checked.tier}) into ${project.cdkJson}\n`);
  io.write(`deploy it with:\n  npx cdk deploy ${stack}\n`);
  return ExitCode.ok;
}
