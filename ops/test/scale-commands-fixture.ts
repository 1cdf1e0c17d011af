/**
 * A scale deployment in the fake account, as its three stacks deploy it (lib/tiers/scale-stack.ts,
 * lib/scale/scale-data-stack.ts): `GeuseData-<name>` (file system), `GeuseScaleData-<name>` (database and queue
 * outputs, tagged geuse:tier=data) and `GeuseScale-<name>` (tier scale, the AI host's group
 * `geusemaker-<name>-ai`), with the AI host running and answering SSM. Shared by the scale-commands-*.test.ts files.
 */
import { OUTPUT_KEYS, SCALE_OUTPUT_KEYS, TAG_KEYS, dataStackName, scaleAiHostAutoScalingGroupName, scaleComputeStackName, scaleDataStackName } from '../src/contract';
import type { DbInstance, ScaleApi } from '../src/scale/api';
import { type FakeAws, awsError, stackOf } from './helpers/fake-aws';
import { tokenOf } from './helpers/host-output';

export const SCALE_FS = 'fs-0aa11bb22cc33dd44';

export interface ScaleDeploymentOptions {
  readonly name?: string;
  /** The AI host; null: the group has no instance. */
  readonly host?: { readonly id: string; readonly state?: string; readonly launchedAt?: string; readonly healthStatus?: string } | null;
  /** The group's desired capacity (default 1 with a host, else 0). */
  readonly desired?: number;
  readonly compute?: boolean;
  readonly scaleData?: string | null;
  readonly data?: string | null;
}

export interface ScaleDeployment {
  readonly name: string;
  readonly group: string;
  readonly compute: string;
  readonly scaleData: string;
  readonly data: string;
}

/** Adds the stacks, the AI host's group and its instance (SSM agent online). */
export function addScaleDeployment(aws: FakeAws, options: ScaleDeploymentOptions = {}): ScaleDeployment {
  const name = options.name ?? 'big';
  const group = scaleAiHostAutoScalingGroupName(name);
  const tags = (tier: string) => ({ [TAG_KEYS.deployment]: name, [TAG_KEYS.tier]: tier });
  if (options.data !== null) {
    aws.addStack(stackOf(dataStackName(name), options.data ?? 'CREATE_COMPLETE', { [OUTPUT_KEYS.fileSystemId]: SCALE_FS }, tags('data')));
  }
  if (options.scaleData !== null) {
    aws.addStack(
      stackOf(
        scaleDataStackName(name),
        options.scaleData ?? 'CREATE_COMPLETE',
        {
          [SCALE_OUTPUT_KEYS.databaseEndpoint]: `geusemaker-${name}.abc123.eu-west-1.rds.amazonaws.com:5432`,
          [SCALE_OUTPUT_KEYS.databaseInstanceId]: `geusemaker-${name}-db`,
          [SCALE_OUTPUT_KEYS.databaseName]: 'n8n',
          [SCALE_OUTPUT_KEYS.queueEndpoint]: `master.geusemaker-${name}.abc123.euw1.cache.amazonaws.com:6379`,
          [SCALE_OUTPUT_KEYS.queueReplicationGroupId]: `geusemaker-${name}`,
        },
        tags('data'),
      ),
    );
  }
  if (options.compute !== false) {
    aws.addStack(
      stackOf(
        scaleComputeStackName(name),
        'CREATE_COMPLETE',
        {
          [OUTPUT_KEYS.tier]: 'scale',
          [OUTPUT_KEYS.entryUrl]: 'https://d111111abcdef8.cloudfront.net',
          [OUTPUT_KEYS.cloudFrontUrl]: 'https://d111111abcdef8.cloudfront.net',
          [OUTPUT_KEYS.autoScalingGroupName]: group,
          [SCALE_OUTPUT_KEYS.clusterName]: `geusemaker-${name}`,
          [SCALE_OUTPUT_KEYS.mainServiceName]: `${name}-main`,
          [SCALE_OUTPUT_KEYS.workerServiceName]: `${name}-worker`,
          [SCALE_OUTPUT_KEYS.webhookServiceName]: '',
        },
        tags('scale'),
      ),
    );
    const host = options.host === undefined ? { id: 'i-0a1b2c3d4e5f60001' } : options.host;
    aws.groups.set(group, {
      AutoScalingGroupName: group,
      MinSize: 0,
      MaxSize: 1,
      DesiredCapacity: options.desired ?? (host ? 1 : 0),
      DefaultCooldown: 300,
      HealthCheckType: 'EC2',
      CreatedTime: new Date('2025-01-14T10:05:00Z'),
      AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
      Instances: host
        ? [{ InstanceId: host.id, LifecycleState: 'InService', HealthStatus: host.healthStatus ?? 'Healthy', AvailabilityZone: 'eu-west-1a', InstanceType: 'm7g.large', ProtectedFromScaleIn: false }]
        : [],
    });
    if (host) {
      aws.instances.set(host.id, {
        InstanceId: host.id,
        State: { Name: (host.state ?? 'running') as never },
        InstanceType: 'm7g.large' as never,
        InstanceLifecycle: 'spot',
        Placement: { AvailabilityZone: 'eu-west-1a' },
        PrivateIpAddress: '10.0.1.20',
        LaunchTime: new Date(host.launchedAt ?? '2025-01-15T09:00:00Z'),
        SecurityGroups: [{ GroupId: `sg-${name}-host`, GroupName: 'host' }],
      });
      aws.agents.set(host.id, 'Online');
    }
  }
  return { name, group, compute: scaleComputeStackName(name), scaleData: scaleDataStackName(name), data: dataStackName(name) };
}

/**
 * What the AI host answers to the health probes (docker/host: GM_ROLE=ai-services runs Ollama, Qdrant and Crawl4AI
 * only): no n8n and no PostgreSQL container, nothing on their ports; `down` services fail their probe.
 */
export function aiHostProbeLines(script: string, down: readonly string[] = []): string {
  const m = `@@gm-ops:${tokenOf(script)}`;
  return [
    `${m} probe\tn8n\thttp\t7\t000 0.000\tcurl: (7) Failed to connect to 127.0.0.1 port 5678 after 0 ms: Couldn't connect to server`,
    `${m} probe\tpostgres\tpg_isready\t-1\t\tno container`,
    ...['ollama', 'qdrant', 'crawl4ai'].map((s) => (down.includes(s) ? `${m} probe\t${s}\thttp\t7\t000 0.000\tcurl: (7) Failed to connect` : `${m} probe\t${s}\thttp\t0\t200 0.004\t`)),
    ...['ollama', 'qdrant', 'crawl4ai'].map((s) => `${m} container\t${s}\t${down.includes(s) ? 'exited' : 'running'}\t${s === 'ollama' ? 'none' : down.includes(s) ? 'unhealthy' : 'healthy'}\t0\t2025-01-15T09:05:00.123456789Z\t${s}:1`),
  ].join('\n');
}

/** An RDS DescribeDBInstances answer (the RDS API reference's DBInstance fields this suite reads). */
export function dbInstanceOf(id: string, extra: Record<string, unknown> = {}): DbInstance {
  return {
    DBInstanceIdentifier: id,
    DBInstanceStatus: 'available',
    Engine: 'postgres',
    EngineVersion: '17.9',
    DBInstanceClass: 'db.t4g.micro',
    Endpoint: { Address: `${id}.abc123.eu-west-1.rds.amazonaws.com`, Port: 5432 },
    MultiAZ: false,
    StorageEncrypted: true,
    ...extra,
  } as DbInstance;
}

/**
 * The part of the scale API these commands read: RDS DescribeDBInstances (DBInstanceNotFoundFault as RDS throws it).
 * Any other call of the scale API fails the test, so a command that should not read ECS or Logs cannot do so unnoticed.
 */
export class FakeDatabaseApi {
  readonly instances = new Map<string, DbInstance>();
  readonly calls: string[] = [];

  async describeDBInstances(input: { DBInstanceIdentifier: string }): Promise<{ DBInstances?: DbInstance[] }> {
    this.calls.push(`DescribeDBInstances ${input.DBInstanceIdentifier}`);
    const instance = this.instances.get(input.DBInstanceIdentifier);
    if (!instance) throw awsError('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    return { DBInstances: [instance] };
  }

  /** As the clients' `scale` member (see scaleApiOf). */
  api(): ScaleApi {
    return new Proxy(this, {
      get: (target, property) =>
        property in target
          ? (target as unknown as Record<string | symbol, unknown>)[property]
          : () => {
              throw new Error(`this test's scale API does not answer ${String(property)}`);
            },
    }) as unknown as ScaleApi;
  }
}
