/**
 * The cdk.json entry `gm-ops init` writes, checked with the rules of the CDK app's schema
 * (lib/config/schema.ts) for the fields it writes. gm-ops cannot import the CDK app (imports go from
 * the app to ops/src/contract.ts only), so the name and tier rules come from the shared contract and
 * the others repeat the schema's, with its messages.
 */
import { z } from 'zod';
import { DEPLOYMENT_NAME_PATTERN, DEPLOYMENT_NAME_RULE, TIERS, type Tier } from '../contract';

export const MARKETS = ['spot', 'on-demand'] as const;
export type Market = (typeof MARKETS)[number];

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;

/** The schema's verdict on an allowed network: a /0 or host bits are refused. */
export function cidrProblem(value: string): string | undefined {
  if (!IPV4_CIDR.test(value)) return `expected an IPv4 CIDR such as 203.0.113.0/24 (got "${value}")`;
  const [address, prefix] = value.split('/');
  const length = Number(prefix);
  if (length === 0) return 'expected specific networks such as 203.0.113.0/24, not /0 (every address)';
  const bits = address.split('.').map(Number).reduce((acc, octet) => acc * 256 + octet, 0);
  const blockSize = 2 ** (32 - length);
  const network = bits - (bits % blockSize);
  if (network === bits) return undefined;
  const networkAddress = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
  return `host bits are set in ${value}; expected the network address ${networkAddress}/${length}`;
}

export const initAnswersSchema = z.object({
  name: z.string().regex(DEPLOYMENT_NAME_PATTERN, { message: `expected ${DEPLOYMENT_NAME_RULE}` }),
  tier: z.enum(TIERS, { message: `expected one of ${TIERS.join(', ')}` }),
  market: z.enum(MARKETS, { message: `expected one of ${MARKETS.join(', ')}` }),
  allowedCidrs: z.array(z.string().superRefine((value, ctx) => {
    const problem = cidrProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })),
  n8nOwnerEmail: z.email({ message: 'expected an email address such as ops@example.com' }),
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, { message: 'expected a VPC id such as vpc-0abc1234 (vpc- and 8 or 17 hex digits)' }).optional(),
  account: z.string().regex(/^\d{12}$/, { message: 'expected a 12-digit AWS account id' }).optional(),
  region: z.string().optional(),
});

export type InitAnswers = z.infer<typeof initAnswersSchema>;

/** The first problem, as "field: message (got value)", or undefined. */
export function answersProblem(answers: unknown): string | undefined {
  const result = initAnswersSchema.safeParse(answers);
  if (result.success) {
    const a = result.data;
    if (a.vpcId && (!a.account || !a.region)) return 'vpcId: an existing VPC is looked up in one account and region: pass --account and --region too';
    return undefined;
  }
  const issue = result.error.issues[0];
  return `${issue.path.join('.')}: ${issue.message}`;
}

/** The entry in "geusemaker:deployments": only what differs from the schema's defaults, plus the owner. */
export function deploymentEntry(answers: InitAnswers): Record<string, unknown> {
  const entry: Record<string, unknown> = { tier: answers.tier as Tier };
  if (answers.market !== 'spot') entry.market = answers.market;
  if (answers.allowedCidrs.length > 0) entry.allowedCidrs = answers.allowedCidrs;
  entry.n8nOwnerEmail = answers.n8nOwnerEmail;
  if (answers.vpcId) {
    entry.env = { account: answers.account, region: answers.region };
    entry.vpcId = answers.vpcId;
  }
  return entry;
}
