import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  SCALE_BACKLOG_METRIC, SCALE_OUTPUT_KEYS, OUTPUT_KEYS, computeStackName, dataStackName, scaleDataStackName,
} from '../../ops/src/contract';
import { GRACEFUL_SHUTDOWN_SECONDS } from '../../lib/scale/n8n-process';
import { n8nImages } from '../../lib/scale/n8n-images';
import { RDS_CA_FETCH_SCRIPT, RDS_CA_FILE, RDS_CA_FETCH, rdsCaBundleUrl } from '../../lib/scale/rds-ca';
import { SCALE_DATA_LINKS } from '../../lib/scale/scale-data-stack';
import { OWNER_PASSWORD_HASH_PRELUDE, aiHostName } from '../../lib/tiers/scale-stack';
import { synthDeployment } from '../helpers/app';
import { ingressRules, isWorldOpen } from '../helpers/network';
import { containers, service, SCALE_SHAPES, synthScale } from './helpers';

const scale = () => synthScale();
const demo = () => scale().of('demo');
const env = (container: Record<string, any>): Record<string, unknown> =>
  Object.fromEntries(((container.Environment ?? []) as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]));
const n8nContainers = (name: string) => containers(scale().of(name).compute).filter((c) => c.Name === 'n8n');
const taskOf = (name: string, prefix: string) => {
  const entry = Object.entries(scale().of(name).compute.findResources('AWS::ECS::TaskDefinition')).find(([id]) => id.startsWith(prefix));
  return entry![1].Properties;
};

describe('the scale tier synthesizes', () => {
  test('every shape synthesizes with zero unacknowledged cdk-nag findings', () => {
    expect(scale().error).toBeUndefined();
    const nag = scale().report.pluginReports.filter((r) => r.pluginName.includes('AwsSolutions'));
    expect(nag.flatMap((r) => r.violations)).toEqual([]);
  });

  test('three stacks: the shared data stack, GeuseScaleData (database, queue) and GeuseScale, which depends on both', () => {
    const { stacks } = demo();
    expect([stacks.data.stackName, stacks.scaleData!.stackName, stacks.compute.stackName])
      .toEqual([dataStackName('demo'), scaleDataStackName('demo'), computeStackName('scale', 'demo')]);
    expect(stacks.compute.dependencies).toEqual(expect.arrayContaining([stacks.data, stacks.scaleData]));
    expect(stacks.scaleData!.dependencies).toEqual([stacks.data]);
  });

  test('the data stack is the same as on every other tier (tiers can switch over it)', () => {
    const dev = synthDeployment('demo', { tier: 'dev' }).data.toJSON();
    expect(demo().data.toJSON()).toEqual(dev);
  });
});

describe('the n8n processes', () => {
  test('one main on on-demand Fargate (Graviton), never two at once during a deployment', () => {
    const main = service(demo().compute, 'Main');
    expect(main.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE', Weight: 1 }]);
    expect(main.DesiredCount).toBe(1);
    expect(main.DeploymentConfiguration).toMatchObject({ MinimumHealthyPercent: 0, MaximumPercent: 100 });
    expect(taskOf('demo', 'Main').RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
  });

  test('workers run on Fargate Spot only, arm64 unless the config says x86_64, n8n worker --concurrency N', () => {
    const workers = service(demo().compute, 'Workers');
    expect(workers.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    // No count in the template: a deploy keeps the workers the backlog scaling started (a new service starts with 1).
    expect(workers.DesiredCount).toBeUndefined();
    expect(taskOf('demo', 'Workers').RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    expect(taskOf('busy', 'Workers').RuntimePlatform.CpuArchitecture).toBe('X86_64');
    const worker = n8nContainers('demo').find((c) => c.task.startsWith('Workers'))!;
    expect(worker.EntryPoint).toEqual(['tini', '--', 'n8n']);
    expect(worker.Command).toEqual(['worker', '--concurrency=10']);
    expect(n8nContainers('busy').find((c) => c.task.startsWith('Workers'))!.Command).toEqual(['worker', '--concurrency=20']);
  });

  test('every n8n container has an external task-runner sidecar at the same version, which stops after n8n', () => {
    const images = n8nImages();
    const all = containers(demo().compute);
    const tasks = new Set(all.map((c) => c.task));
    expect(tasks.size).toBe(2);
    for (const task of tasks) {
      const [n8n, runners] = ['n8n', 'runners'].map((name) => all.find((c) => c.task === task && c.Name === name)!);
      expect(n8n.Image).toBe(images.n8n);
      expect(runners.Image).toBe(`n8nio/runners:${images.version}`);
      expect(env(n8n).N8N_RUNNERS_MODE).toBe('external');
      expect(env(runners).N8N_RUNNERS_TASK_BROKER_URI).toBe('http://127.0.0.1:5679');
      // Started after the sidecar, so stopped before it (ECS reverses container dependencies on shutdown).
      expect(n8n.DependsOn).toEqual(expect.arrayContaining([{ ContainerName: 'runners', Condition: 'START' }]));
    }
  });

  test('graceful shutdown fits the Spot notice: stopTimeout 120 s, n8n\'s own grace below it', () => {
    const longRunning = containers(demo().compute).filter((c) => c.Essential);
    expect(longRunning.map((c) => c.Name).sort()).toEqual(['n8n', 'n8n', 'runners', 'runners']);
    for (const container of longRunning) expect(container.StopTimeout).toBe(120);
    for (const n8n of n8nContainers('demo')) expect(Number(env(n8n).N8N_GRACEFUL_SHUTDOWN_TIMEOUT)).toBe(GRACEFUL_SHUTDOWN_SECONDS);
    expect(GRACEFUL_SHUTDOWN_SECONDS).toBeLessThan(120);
  });

  test('a worker\'s readiness (/healthz/readiness, QUEUE_HEALTH_CHECK_ACTIVE) gates its deployment, which rolls back on failure', () => {
    const worker = n8nContainers('demo').find((c) => c.task.startsWith('Workers'))!;
    expect(env(worker).QUEUE_HEALTH_CHECK_ACTIVE).toBe('true');
    expect(worker.HealthCheck.Command[0]).toBe('CMD-SHELL');
    expect(worker.HealthCheck.Command[1]).toContain('http://127.0.0.1:5678/healthz/readiness');
    expect(service(demo().compute, 'Workers').DeploymentConfiguration).toMatchObject({
      DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100,
    });
  });

  test('queue mode over TLS, binary data in the database, manual executions offloaded from the main', () => {
    for (const n8n of n8nContainers('demo')) {
      expect(env(n8n)).toMatchObject({
        EXECUTIONS_MODE: 'queue', QUEUE_BULL_REDIS_TLS: 'true', N8N_DEFAULT_BINARY_DATA_MODE: 'database', DB_TYPE: 'postgresdb',
      });
      expect(env(n8n).QUEUE_BULL_REDIS_HOST).toEqual({ 'Fn::GetStackOutput': { StackName: scaleDataStackName('demo'), OutputName: SCALE_DATA_LINKS.queueAddress } });
    }
    const main = n8nContainers('demo').find((c) => c.task.startsWith('Main'))!;
    expect(env(main).OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS).toBe('true');
    expect(main.Command).toEqual(['start']);
  });

  test('TLS to the database is verified: every n8n process trusts only the region\'s RDS CA bundle and checks the server\'s name', () => {
    for (const name of Object.keys(SCALE_SHAPES)) {
      const n8ns = n8nContainers(name);
      expect(n8ns.length).toBeGreaterThanOrEqual(2);
      for (const n8n of n8ns) {
        const settings = env(n8n);
        // Turning verification off again (or dropping the bundle) must fail here.
        expect(settings.DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED).toBe('true');
        expect(settings).toMatchObject({ DB_POSTGRESDB_SSL_ENABLED: 'true', DB_POSTGRESDB_SSL_CA_FILE: RDS_CA_FILE });
        // @n8n/config prefers DB_POSTGRESDB_SSL_CA over its _FILE form: it must not be set at all.
        expect(Object.keys(settings)).not.toContain('DB_POSTGRESDB_SSL_CA');
        expect(settings.DB_POSTGRESDB_HOST).toEqual({ 'Fn::GetStackOutput': { StackName: scaleDataStackName(name), OutputName: SCALE_DATA_LINKS.databaseAddress } });
        expect(n8n.MountPoints).toEqual([{ SourceVolume: 'rds-ca', ContainerPath: '/rds-ca', ReadOnly: true }]);
        // n8n starts only after the bundle is written (exit 0), and the sidecar has started.
        expect(n8n.DependsOn).toEqual([{ ContainerName: 'rds-ca', Condition: 'SUCCESS' }, { ContainerName: 'runners', Condition: 'START' }]);
      }
    }
  });

  test('the rds-ca init container: the n8n image\'s node fetches the bundle into a task volume, bounded, without secrets, then exits', () => {
    const images = n8nImages();
    for (const [name, bundleUrl] of [
      ['demo', { 'Fn::Join': ['', ['https://truststore.pki.rds.amazonaws.com/', { Ref: 'AWS::Region' }, '/', { Ref: 'AWS::Region' }, '-bundle.pem']] }],
      ['busy', 'https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem'],
    ] as const) {
      const tasks = Object.values(scale().of(name).compute.findResources('AWS::ECS::TaskDefinition')).map((t) => t.Properties);
      expect(tasks.length).toBeGreaterThanOrEqual(2);
      for (const task of tasks) {
        expect(task.Volumes).toEqual([{ Name: 'rds-ca' }]);
        const init = task.ContainerDefinitions.find((c: { Name: string }) => c.Name === 'rds-ca');
        expect(init).toMatchObject({
          Image: images.n8n, Essential: false, EntryPoint: ['node', '-e', RDS_CA_FETCH_SCRIPT], User: '0',
          ReadonlyRootFilesystem: true, StartTimeout: 120,
          MountPoints: [{ SourceVolume: 'rds-ca', ContainerPath: '/rds-ca', ReadOnly: false }],
        });
        expect(init.Command).toBeUndefined();
        expect(init.Secrets).toBeUndefined();
        expect(init.PortMappings).toBeUndefined();
        expect(env(init)).toEqual({
          GM_RDS_CA_URL: bundleUrl, GM_RDS_CA_FILE: RDS_CA_FILE, GM_RDS_CA_ATTEMPTS: '3', GM_RDS_CA_TIMEOUT_MS: '15000', GM_RDS_CA_RETRY_MS: '3000',
        });
        expect(init.LogConfiguration.LogDriver).toBe('awslogs');
        // The sidecar needs no bundle.
        expect(task.ContainerDefinitions.find((c: { Name: string }) => c.Name === 'runners').MountPoints ?? []).toEqual([]);
      }
    }
    expect(rdsCaBundleUrl('eu-west-1')).toBe('https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem');
    // Its own bound ends before ECS gives up on it (startTimeout 120 s).
    const { attempts, timeoutMs, retryMs } = RDS_CA_FETCH;
    expect(attempts * timeoutMs + (attempts - 1) * retryMs).toBeLessThan(120_000);
  });

  test('secrets only as ECS secrets: no secret-looking environment variable, and the encryption key is the deployment\'s stored one', () => {
    for (const name of Object.keys(SCALE_SHAPES)) {
      for (const container of containers(scale().of(name).compute)) {
        const plain = (container.Environment ?? []).map((e: { Name: string }) => e.Name);
        expect(plain.filter((n: string) => /PASSWORD|SECRET|TOKEN|_KEY$/.test(n))).toEqual([]);
      }
    }
    const main = n8nContainers('demo').find((c) => c.task.startsWith('Main'))!;
    const secrets = Object.fromEntries(main.Secrets.map((s: { Name: string; ValueFrom: unknown }) => [s.Name, JSON.stringify(s.ValueFrom)]));
    expect(Object.keys(secrets).sort()).toEqual(['DB_POSTGRESDB_PASSWORD', 'DB_POSTGRESDB_USER', 'N8N_ENCRYPTION_KEY', 'N8N_OWNER_PASSWORD', 'N8N_RUNNERS_AUTH_TOKEN', 'QUEUE_BULL_REDIS_PASSWORD']);
    expect(secrets.N8N_ENCRYPTION_KEY).toContain(':secret:geusemaker/demo/n8n-encryption-key');
    expect(secrets.DB_POSTGRESDB_PASSWORD).toContain(':password::');
  });

  test('the owner exists before the main listens: managed by env, its bcrypt hash derived in the task from the stored owner password', () => {
    const main = n8nContainers('demo').find((c) => c.task.startsWith('Main'))!;
    expect(env(main)).toMatchObject({ N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true', N8N_INSTANCE_OWNER_EMAIL: 'owner@example.com' });
    expect(JSON.stringify(main.Secrets.find((x: { Name: string }) => x.Name === 'N8N_OWNER_PASSWORD').ValueFrom)).toContain(':secret:geusemaker/demo/n8n-owner-password');
    expect(main.EntryPoint.slice(0, 4)).toEqual(['tini', '--', 'sh', '-c']);
    expect(main.EntryPoint[4]).toBe(`${OWNER_PASSWORD_HASH_PRELUDE}\nexec n8n "$@"`);
    expect(main.Command).toEqual(['start']);
    for (const other of n8nContainers('demo').filter((c) => !c.task.startsWith('Main'))) {
      expect(other.Secrets.map((x: { Name: string }) => x.Name)).not.toContain('N8N_OWNER_PASSWORD');
    }
  });
});

describe('network', () => {
  test('no security group of any scale template admits 0.0.0.0/0 or ::/0', () => {
    for (const name of Object.keys(SCALE_SHAPES)) {
      const { data, scaleData, compute } = scale().of(name);
      for (const template of [data, scaleData, compute]) {
        for (const rule of ingressRules(template)) expect(isWorldOpen(rule)).toBe(false);
      }
    }
  });

  test('the n8n tasks take 5678 from the load balancer only; database, queue and AI ports admit the tasks (and the AI host to PostgreSQL)', () => {
    const { compute } = demo();
    const rules = ingressRules(compute).map((r) => ({ group: JSON.stringify(r.groupId), port: r.fromPort, from: JSON.stringify(r.sourceSecurityGroupId ?? r.sourcePrefixListId ?? r.cidrIp) }));
    const toTasks = rules.filter((r) => r.group.includes('TaskSecurityGroup'));
    expect(toTasks).toEqual([expect.objectContaining({ port: 5678, from: expect.stringContaining('EntryLoadBalancerSecurityGroup') })]);
    const fromTasks = rules.filter((r) => r.from.includes('TaskSecurityGroup')).map((r) => r.port).sort((a, b) => a! - b!);
    expect(fromTasks).toEqual([5432, 6333, 6379, 11235, 11434]);
    const toDatabase = rules.filter((r) => r.group.includes(SCALE_DATA_LINKS.databaseSecurityGroupId));
    expect(toDatabase).toHaveLength(2);
    expect(toDatabase.map((r) => r.from)).toEqual(expect.arrayContaining([expect.stringContaining('HostSecurityGroupId'), expect.stringContaining('TaskSecurityGroup')]));
    // The load balancer: CloudFront's VPC origin, and the AI host's functional check of n8n, on the listener's port only.
    const toLoadBalancer = rules.filter((r) => r.group.includes('EntryLoadBalancerSecurityGroup'));
    expect(toLoadBalancer.map((r) => r.port)).toEqual([80, 80]);
    expect(toLoadBalancer.map((r) => r.from)).toEqual(expect.arrayContaining([expect.stringContaining('HostSecurityGroupId')]));
  });

  test('tasks run in the public subnets with a public address (images from Docker Hub, workflows calling the internet, no NAT gateway)', () => {
    const network = service(demo().compute, 'Workers').NetworkConfiguration.AwsvpcConfiguration;
    expect(network.AssignPublicIp).toBe('ENABLED');
    expect(JSON.stringify(network.Subnets)).toContain('HostSubnet1Id');
    expect(Object.keys(demo().data.findResources('AWS::EC2::NatGateway'))).toEqual([]);
  });
});

describe('data that outlives the compute', () => {
  test('RDS PostgreSQL 17: encrypted, TLS forced, backed up, snapshot on delete and replace, deletion protection, private', () => {
    const { scaleData } = demo();
    scaleData.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Properties: Match.objectLike({
        Engine: 'postgres', EngineVersion: Match.stringLikeRegexp('^17\\.'), DBInstanceClass: 'db.t4g.micro',
        StorageEncrypted: true, BackupRetentionPeriod: 7, DeletionProtection: true, PubliclyAccessible: false, MultiAZ: false,
      }),
    });
    scaleData.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'postgres17', Parameters: { 'rds.force_ssl': '1' } });
  });

  test('the database password is a generated secret kept when the stack goes (the snapshot still wants it), with no fixed name to block a new stack', () => {
    const secrets = Object.values(demo().scaleData.findResources('AWS::SecretsManager::Secret', { UpdateReplacePolicy: 'Retain' }))
      .filter((s) => JSON.stringify(s.Properties.GenerateSecretString ?? {}).includes('username'));
    expect(secrets).toHaveLength(1);
    expect(secrets[0].Properties.Name).toBeUndefined();
  });

  test('Multi-AZ is a setting; without deletion protection the database still leaves a final snapshot', () => {
    scale().of('busy').scaleData.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({ MultiAZ: true, DeletionProtection: false, DBInstanceClass: 'db.t4g.small' }),
    });
  });

  test('Valkey: node-based, cluster mode off, TLS required, encrypted at rest, AUTH token from Secrets Manager', () => {
    const [group] = Object.values(demo().scaleData.findResources('AWS::ElastiCache::ReplicationGroup')).map((r) => r.Properties);
    expect(group).toMatchObject({
      Engine: 'valkey', ClusterMode: 'disabled', NumCacheClusters: 1, CacheNodeType: 'cache.t4g.micro',
      TransitEncryptionEnabled: true, TransitEncryptionMode: 'required', AtRestEncryptionEnabled: true,
    });
    expect(JSON.stringify(group.AuthToken)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",\{"Ref":"QueueAuthToken[A-F0-9]+"\},":SecretString:::\}\}"\]\]\}$/);
  });
});

describe('scaling on the queue backlog', () => {
  test('workers step out on BacklogPerWorker (no scale-in on an empty queue) and track CPU as the safety net', () => {
    const { compute } = demo();
    compute.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 4, ScalableDimension: 'ecs:service:DesiredCount' });
    const alarms = Object.values(compute.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms).toEqual([expect.objectContaining({
      Namespace: SCALE_BACKLOG_METRIC.namespace, MetricName: SCALE_BACKLOG_METRIC.backlogPerWorker,
      Dimensions: [{ Name: SCALE_BACKLOG_METRIC.dimension, Value: 'demo' }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 2, Period: 60,
    })]);
    const policies = Object.values(compute.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map((p) => p.Properties);
    const step = policies.find((p) => p.PolicyType === 'StepScaling')!;
    expect(step.StepScalingPolicyConfiguration.StepAdjustments.every((s: { ScalingAdjustment: number }) => s.ScalingAdjustment > 0)).toBe(true);
    expect(policies.find((p) => p.PolicyType === 'TargetTrackingScaling')!.TargetTrackingScalingPolicyConfiguration)
      .toMatchObject({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } });
  });

  test('the scalable target carries no Tags (not in its CloudFormation schema, cfn-lint E3002)', () => {
    for (const target of Object.values(demo().compute.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))) {
      expect(target.Properties.Tags).toBeUndefined();
    }
  });

  test('held by gm-ops migrate: every service at 0 tasks and the workers pinned at 0', () => {
    const { compute } = scale().of('held');
    for (const props of Object.values(compute.findResources('AWS::ECS::Service')).map((s) => s.Properties)) expect(props.DesiredCount).toBe(0);
    compute.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 0 });
  });
});

describe('entry, webhook processors, AI host, outputs', () => {
  test('webhook processors (when configured) serve /webhook/* behind the same load balancer, and the main leaves production webhooks to them', () => {
    const { compute } = scale().of('busy');
    expect(service(compute, 'Webhooks')).toMatchObject({ DesiredCount: 2, CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Weight: 1 }] });
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 10, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/webhook/*'] } }],
    });
    const main = n8nContainers('busy').find((c) => c.task.startsWith('Main'))!;
    expect(env(main).N8N_DISABLE_PRODUCTION_MAIN_PROCESS).toBe('true');
    expect(Object.keys(demo().compute.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))).toEqual([]);
  });

  test('the main is the internal load balancer\'s IP target behind CloudFront\'s VPC origin', () => {
    const { compute } = demo();
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'ip', Port: 5678, HealthCheckPath: '/healthz/readiness' });
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    expect(service(compute, 'Main').LoadBalancers).toEqual([expect.objectContaining({ ContainerName: 'n8n', ContainerPort: 5678 })]);
    expect(Object.keys(compute.findResources('AWS::CloudFront::VpcOrigin'))).toHaveLength(1);
  });

  test('the AI host runs the AI services only, under its own group name, and registers its private name', () => {
    const { compute } = demo();
    compute.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { AutoScalingGroupName: 'geusemaker-demo-ai' });
    const userData = JSON.stringify(Object.values(compute.findResources('AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData.UserData);
    expect(userData).toContain("GM_ROLE='ai-services'");
    expect(userData).toContain(`GM_AI_HOST_NAME='${aiHostName('demo')}'`);
    // Its import verifies RDS's certificate with the region's bundle; its functional check reaches n8n through the load balancer.
    expect(userData).toMatch(/GM_RDS_CA_URL='https:\/\/truststore\.pki\.rds\.amazonaws\.com\/",\{"Ref":"AWS::Region"\},"\/",\{"Ref":"AWS::Region"\},"-bundle\.pem'/);
    expect(userData).toMatch(/GM_N8N_CHECK_URL='http:\/\/",\{"Fn::GetAtt":\["EntryLoadBalancer[A-Za-z0-9]+","DNSName"\]\}/);
    compute.hasResourceProperties('AWS::Route53::HostedZone', { Name: 'demo.geusemaker.internal.' });
  });

  test('outputs gm-ops reads: cluster, services, logs, worker bounds; database and queue from the scale data stack', () => {
    const { compute, scaleData } = demo();
    for (const key of ['clusterName', 'mainServiceName', 'workerServiceName', 'webhookServiceName', 'logGroupNames', 'workerMinCount', 'workerMaxCount', 'workerConcurrency'] as const) {
      compute.hasOutput(SCALE_OUTPUT_KEYS[key], {});
    }
    compute.hasOutput(SCALE_OUTPUT_KEYS.clusterName, { Value: Match.anyValue() });
    compute.hasOutput(SCALE_OUTPUT_KEYS.workerConcurrency, { Value: '10' });
    compute.hasOutput(SCALE_OUTPUT_KEYS.webhookServiceName, { Value: '' });
    compute.hasOutput(OUTPUT_KEYS.tier, { Value: 'scale' });
    compute.hasOutput(OUTPUT_KEYS.entryUrl, {});
    compute.hasOutput(OUTPUT_KEYS.autoScalingGroupName, {});
    const logGroups = JSON.stringify(compute.findOutputs(SCALE_OUTPUT_KEYS.logGroupNames));
    for (const process of ['main=', 'worker=', 'runner=']) expect(logGroups).toContain(process);
    for (const key of ['databaseEndpoint', 'databaseInstanceId', 'databaseName', 'databaseSecretArn', 'queueEndpoint', 'queueReplicationGroupId', 'queueAuthSecretArn'] as const) {
      scaleData.hasOutput(SCALE_OUTPUT_KEYS[key], {});
    }
  });
});

describe('a domain of the user\'s own (scale.domainName + scale.certificateArn)', () => {
  const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab';
  let compute: Template;
  // One more synthesis, of one deployment: a domain and a webhook processor, so every n8n role is looked at.
  beforeAll(() => ({ compute } = synthDeployment('own', { tier: 'scale', scale: { domainName: 'n8n.example.com', certificateArn: CERT, webhooks: { count: 1 } } })));
  const n8nEnv = (t: Template) => containers(t).filter((c) => c.Name === 'n8n').map((c) => ({ task: c.task, env: env(c) }));

  test('CloudFront serves the name with the certificate, TLS 1.2 or later (TLSv1.2_2021), SNI', () => {
    const config = Object.values(compute.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
    expect(config.Aliases).toEqual(['n8n.example.com']);
    expect(config.ViewerCertificate).toEqual({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    compute.hasOutput(OUTPUT_KEYS.entryUrl, { Value: 'https://n8n.example.com/' });
  });

  test('n8n\'s editor base and webhook URL are https://<domainName>/ on the main, the webhook processors and the workers', () => {
    const processes = n8nEnv(compute);
    expect(processes.map((p) => ['Main', 'Webhooks', 'Workers'].find((role) => p.task.startsWith(role))).sort()).toEqual(['Main', 'Webhooks', 'Workers']);
    for (const { env: settings } of processes) {
      expect(settings).toMatchObject({ N8N_WEBHOOK_URL: 'https://n8n.example.com/', N8N_EDITOR_BASE_URL: 'https://n8n.example.com/' });
    }
  });

  test('without a domain the URLs are the distribution\'s own https://<id>.cloudfront.net/, on every n8n process', () => {
    const config = Object.values(demo().compute.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
    expect(config.Aliases).toBeUndefined();
    for (const { env: settings } of n8nEnv(demo().compute)) {
      expect(JSON.stringify(settings.N8N_WEBHOOK_URL)).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",\{"Fn::GetAtt":\["EntryDistribution[0-9A-F]+","DomainName"\]\},"\/"\]\]\}$/);
      expect(settings.N8N_EDITOR_BASE_URL).toEqual(settings.N8N_WEBHOOK_URL);
    }
  });
});
