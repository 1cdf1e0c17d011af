/**
 * What `gm-ops stop` and `gm-ops start` read of a scale deployment besides its AI host's group: its ECS services
 * (DescribeServices: desired, running and pending tasks), the workers' scalable target (DescribeScalableTargets: the
 * bounds the scaling policies stay within) and, for start, what the deployed template declares (GetTemplate of
 * `GeuseScale-<name>`): the main's and the webhook processors' DesiredCount, the workers' MinCapacity and MaxCapacity.
 * The workers' service has no DesiredCount in the template: their scaling owns it (lib/tiers/scale-stack.ts).
 */
import { GetTemplateCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { AwsClients } from '../aws/clients';
import { SCALE_OUTPUT_KEYS, SCALE_SERVICES, type ScaleService } from '../contract';
import { OpsError } from '../errors';
import { scaleApiOf } from '../scale/api';
import { readScaleLayout, type ScaleLayout } from '../scale/stacks';

/** The scalable dimension of an ECS service's task count (Application Auto Scaling). */
export const ECS_DESIRED_COUNT = 'ecs:service:DesiredCount';

export interface ServiceNow {
  readonly process: ScaleService;
  readonly serviceName: string;
  /** False when DescribeServices does not know it (MISSING) or it is INACTIVE. */
  readonly exists: boolean;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
}

export interface WorkerBounds {
  readonly min: number;
  readonly max: number;
}

export interface ScaleNow {
  readonly layout: ScaleLayout;
  readonly services: readonly ServiceNow[];
  /** The workers' scalable target: its ResourceId, and its bounds when it is registered. */
  readonly workers?: { readonly resourceId: string; readonly bounds?: WorkerBounds };
}

export const serviceLabel = (s: Pick<ServiceNow, 'process' | 'serviceName'>): string =>
  `${s.process === 'worker' ? 'the workers' : s.process === 'webhook' ? 'the webhook processors' : 'the main'} (${s.serviceName})`;

/** The services' task counts (one DescribeServices call). */
export async function readServicesNow(clients: AwsClients, layout: ScaleLayout): Promise<ServiceNow[]> {
  const wanted = SCALE_SERVICES.map((process) => ({ process, serviceName: layout.services[process] })).filter(
    (s): s is { process: ScaleService; serviceName: string } => s.serviceName !== undefined,
  );
  if (wanted.length === 0) return [];
  const described = await scaleApiOf(clients).describeServices({ cluster: layout.cluster, services: wanted.map((s) => s.serviceName) });
  return wanted.map(({ process, serviceName }) => {
    const service = described.services?.find((s) => s.serviceName === serviceName || s.serviceArn?.endsWith(`/${serviceName}`));
    const exists = service !== undefined && service.status !== 'INACTIVE';
    return {
      process,
      serviceName,
      exists,
      desired: exists ? (service.desiredCount ?? 0) : 0,
      running: exists ? (service.runningCount ?? 0) : 0,
      pending: exists ? (service.pendingCount ?? 0) : 0,
    };
  });
}

export async function readScaleNow(clients: AwsClients, name: string): Promise<ScaleNow> {
  const layout = await readScaleLayout(clients.cloudFormation, name);
  const services = await readServicesNow(clients, layout);
  const worker = layout.services.worker;
  if (!worker) return { layout, services };
  const resourceId = `service/${layout.cluster}/${worker}`;
  const answer = await scaleApiOf(clients).describeScalableTargets({ ServiceNamespace: 'ecs', ResourceIds: [resourceId], ScalableDimension: ECS_DESIRED_COUNT });
  const target = answer.ScalableTargets?.find((t) => t.ResourceId === resourceId);
  const bounds = target && target.MinCapacity !== undefined && target.MaxCapacity !== undefined ? { min: target.MinCapacity, max: target.MaxCapacity } : undefined;
  return { layout, services, workers: { resourceId, bounds } };
}

// ---- what the deployed template declares ----

export interface DeclaredCounts {
  /** DesiredCount of each service resource that has one, by process. */
  readonly desired: Partial<Record<ScaleService, number>>;
  /** The workers' scalable target's MinCapacity and MaxCapacity. */
  readonly workers?: WorkerBounds;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A literal count (CloudFormation takes 1 and "1"), else undefined. */
function literalCount(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** The logical id an output's value names (`{"Fn::GetAtt": [id, "Name"]}` or `{"Ref": id}`). */
function referencedId(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return typeof value.Ref === 'string' ? value.Ref : undefined;
}

/** Whether `value` (a ResourceId expression) mentions the resource `logicalId`. */
function mentions(value: unknown, logicalId: string): boolean {
  if (referencedId(value) === logicalId) return true;
  if (Array.isArray(value)) return value.some((v) => mentions(v, logicalId));
  if (isObject(value)) return Object.values(value).some((v) => mentions(v, logicalId));
  return false;
}

const OUTPUT_OF: Record<ScaleService, string> = {
  main: SCALE_OUTPUT_KEYS.mainServiceName,
  worker: SCALE_OUTPUT_KEYS.workerServiceName,
  webhook: SCALE_OUTPUT_KEYS.webhookServiceName,
};

/** The counts a compute template declares (a template synthesized by the CDK app: JSON). */
export function declaredCounts(body: string, stackName: string): DeclaredCounts {
  let template: unknown;
  try {
    template = JSON.parse(body);
  } catch {
    throw new OpsError(`the template of ${stackName} is not JSON: gm-ops reads the template the CDK app deploys`, `redeploy it with \`npx cdk deploy ${stackName}\``);
  }
  const resources = isObject(template) && isObject(template.Resources) ? template.Resources : {};
  const outputs = isObject(template) && isObject(template.Outputs) ? template.Outputs : {};
  const logicalIdOf = (process: ScaleService): string | undefined => {
    const output = outputs[OUTPUT_OF[process]];
    const id = isObject(output) ? referencedId(output.Value) : undefined;
    return id && isObject(resources[id]) && resources[id].Type === 'AWS::ECS::Service' ? id : undefined;
  };
  const desired: Partial<Record<ScaleService, number>> = {};
  for (const process of SCALE_SERVICES) {
    const id = logicalIdOf(process);
    const properties = id ? (resources[id] as Json).Properties : undefined;
    const count = isObject(properties) ? literalCount(properties.DesiredCount) : undefined;
    if (count !== undefined) desired[process] = count;
  }
  const worker = logicalIdOf('worker');
  let workers: WorkerBounds | undefined;
  if (worker) {
    for (const resource of Object.values(resources)) {
      if (!isObject(resource) || resource.Type !== 'AWS::ApplicationAutoScaling::ScalableTarget' || !isObject(resource.Properties)) continue;
      const p = resource.Properties;
      if (p.ScalableDimension !== ECS_DESIRED_COUNT || !mentions(p.ResourceId, worker)) continue;
      const min = literalCount(p.MinCapacity);
      const max = literalCount(p.MaxCapacity);
      if (min !== undefined && max !== undefined) workers = { min, max };
    }
  }
  return { desired, workers };
}

/** GetTemplate of the deployed compute stack (its original template, as deployed). */
export async function readDeclaredCounts(cfn: CloudFormationClient, stackName: string): Promise<DeclaredCounts> {
  const answer = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }));
  if (!answer?.TemplateBody) throw new OpsError(`CloudFormation returned no template for ${stackName}`, `see \`aws cloudformation get-template --stack-name ${stackName}\``);
  return declaredCounts(answer.TemplateBody, stackName);
}
