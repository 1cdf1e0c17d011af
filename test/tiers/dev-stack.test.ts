import { Match, Template } from 'aws-cdk-lib/assertions';
import { DERIVED_SECRET_PURPOSES, OUTPUT_KEYS, STORED_SECRET_PURPOSES, TAG_KEYS } from '../../ops/src/contract';
import { ARM64_CPU_FAMILIES, CPU_FAMILIES } from '../../lib/compute/instance-types';
import { DEFAULT_CPU_ROOT_VOLUME_GIB } from '../../lib/config/load-config';
import { AL2023_AMI_PARAMETER, AL2023_ARM64_AMI_PARAMETER } from '../../lib/tiers/compute-stack';
import { existingVpcContext, synthDeployment, warningsOf } from '../helpers/app';
import { renderUserData } from '../helpers/render-user-data';
import { coversPort, ingressRules, isWorldOpen } from '../helpers/network';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const VPC_ID = 'vpc-0abc1234def567890';

/** The host settings file (host.env) the rendered user data writes. */
const hostSettings = (t: Template) => {
  const script = renderUserData(t, { region: REGION, account: ACCOUNT, references: (name) => `<${name}>` });
  return script.slice(script.indexOf("<<'GM_HOST_ENV'"), script.lastIndexOf('GM_HOST_ENV'));
};
const launchTemplateData = (t: Template) => Object.values(t.findResources('AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData;
const autoScalingGroup = (t: Template) => Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
const policyStatements = (t: Template) => Object.values(t.findResources('AWS::IAM::Policy'))
  .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);

describe.each([
  ['new VPC', () => synthDeployment('my-stack', { tier: 'dev' })],
  ['existing VPC', () => synthDeployment('team', { tier: 'dev', vpcId: VPC_ID, env: { account: ACCOUNT, region: REGION } }, existingVpcContext(ACCOUNT, REGION, VPC_ID))],
])('dev stack over a %s', (_case, synth) => {
  let compute: Template;
  let data: Template;
  let stacks: ReturnType<typeof synthDeployment>['stacks'];
  beforeAll(() => ({ compute, data, stacks } = synth()));

  test('depends on its data stack', () => {
    expect(stacks.compute.dependencies).toContain(stacks.data);
  });

  test('Amazon Linux 2023 for arm64 by default, resolved by EC2 at launch, so a new AMI never replaces the host', () => {
    expect(launchTemplateData(compute).ImageId).toBe(`resolve:ssm:${AL2023_ARM64_AMI_PARAMETER}`);
  });

  test('IMDSv2 required, metadata unreachable from containers', () => {
    expect(launchTemplateData(compute).MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
  });

  test('encrypted gp3 root volume', () => {
    expect(launchTemplateData(compute).BlockDeviceMappings).toEqual([{
      DeviceName: '/dev/xvda',
      Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: DEFAULT_CPU_ROOT_VOLUME_GIB, VolumeType: 'gp3' },
    }]);
  });

  test('no key pair: Session Manager only', () => {
    expect(launchTemplateData(compute).KeyName).toBeUndefined();
    compute.resourceCountIs('AWS::EC2::KeyPair', 0);
  });

  test('at most one host: created with one, stoppable to none (min 0, max 1, desired 1)', () => {
    expect(autoScalingGroup(compute).Properties).toMatchObject({ MinSize: '0', MaxSize: '1', DesiredCapacity: '1' });
  });

  test('spot over at least four Graviton types of the configured size, price-capacity-optimized', () => {
    const props = autoScalingGroup(compute).Properties;
    expect(props.MixedInstancesPolicy.InstancesDistribution).toEqual({
      OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized',
    });
    const types: string[] = props.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType);
    expect(types.length).toBeGreaterThanOrEqual(4);
    expect(types.map((t) => t.split('.')[0])).toEqual([...ARM64_CPU_FAMILIES]);
    for (const type of types) expect(type).toMatch(/^[a-z]+\dg[a-z]*\.large$/);
  });

  test('a deploy never resets the sizes gm-ops stop or a schedule set (IgnoreUnmodifiedGroupSizeProperties)', () => {
    expect(autoScalingGroup(compute).UpdatePolicy.AutoScalingScheduledAction).toEqual({ IgnoreUnmodifiedGroupSizeProperties: true });
  });

  test('a rolling update suspends scheduled actions, so a schedule cannot change the group mid-update', () => {
    expect(autoScalingGroup(compute).UpdatePolicy.AutoScalingRollingUpdate.SuspendProcesses).toContain('ScheduledActions');
  });

  test('a host going away waits up to 600 s in a termination hook for its clean stop, then continues either way', () => {
    expect(autoScalingGroup(compute).Properties.LifecycleHookSpecificationList).toEqual([{
      LifecycleHookName: 'geusemaker-clean-stop', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 600, DefaultResult: 'CONTINUE',
    }]);
    expect(hostSettings(compute)).toContain("GM_TERMINATION_HOOK='geusemaker-clean-stop'");
  });

  test('the host may complete lifecycle hooks of its own group only', () => {
    const statement = policyStatements(compute).find((s) => s.Action === 'autoscaling:CompleteLifecycleAction');
    expect(JSON.stringify(statement!.Resource)).toMatch(/:autoScalingGroup:\*:autoScalingGroupName\/geusemaker-(my-stack|team)"(\]\]\})?$/);
  });

  test('no scheduled action without a schedule', () => {
    compute.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
  });

  test('the host gets the stored secrets by name and the legacy names of the derived ones', () => {
    const settings = hostSettings(compute);
    const name = autoScalingGroup(compute).Properties.AutoScalingGroupName.replace(/^geusemaker-/, '');
    expect(settings).toContain(`GM_SECRETS='${STORED_SECRET_PURPOSES.map((s) => `${s.envVar}=geusemaker/${name}/${s.purpose}`).join(',')}'`);
    expect(settings).toContain(`GM_DERIVED_SECRETS='${DERIVED_SECRET_PURPOSES.map((s) => `${s.envVar}=geusemaker/${name}/${s.purpose}`).join(',')}'`);
  });

  test('the host may read the legacy secrets of the derived values: by stored ARN, and by bare name so a missing one answers NotFound', () => {
    const statement = policyStatements(compute).find((s) => s.Sid === 'ReadLegacySecretsOfDerivedValues')!;
    expect(statement.Action).toBe('secretsmanager:GetSecretValue');
    const resources = JSON.stringify(statement.Resource);
    for (const { purpose } of DERIVED_SECRET_PURPOSES) {
      expect(resources).toMatch(new RegExp(`secret:geusemaker/(my-stack|team)/${purpose}-\\?{6}"`));
      expect(resources).toMatch(new RegExp(`secret:geusemaker/(my-stack|team)/${purpose}"`));
    }
    expect(resources).not.toContain('n8n-encryption-key');
  });

  test('no capacity rebalancing: a replacement would start before the old host lets go of the data', () => {
    expect(autoScalingGroup(compute).Properties.CapacityRebalance).toBe(false);
  });

  test('a host whose bootstrap fails may mark itself unhealthy, in its own group only', () => {
    const statement = policyStatements(compute).find((s) => s.Action === 'autoscaling:SetInstanceHealth');
    expect(JSON.stringify(statement!.Resource)).toMatch(/:autoScalingGroup:\*:autoScalingGroupName\/geusemaker-(my-stack|team)"(\]\]\})?$/);
  });

  test('the group has the deployment\'s fixed name, so a second compute stack for it cannot be created', () => {
    expect(autoScalingGroup(compute).Properties.AutoScalingGroupName).toMatch(/^geusemaker-(my-stack|team)$/);
  });

  test('creation waits for one signal; updates replace the host without two running at once', () => {
    const group = autoScalingGroup(compute);
    expect(group.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT30M' } });
    expect(group.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({
      MinInstancesInService: 0, MaxBatchSize: 1, WaitOnResourceSignals: true, PauseTime: 'PT30M',
    });
  });

  test('the role: SSM core, its own signal, mount and write on the file system only, read of the secrets only', () => {
    const role = Object.values(compute.findResources('AWS::IAM::Role'))[0];
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AmazonSSMManagedInstanceCore');
    expect(role.Properties.ManagedPolicyArns).toHaveLength(1);
    const statements = policyStatements(compute);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
      expect(JSON.stringify(statement.Action)).not.toMatch(/\*/);
    }
    const byAction = (action: string) => statements.filter((s) => ([] as string[]).concat(s.Action as string).includes(action));
    expect(byAction('cloudformation:SignalResource').map((s) => s.Resource)).toEqual([{ Ref: 'AWS::StackId' }]);
    const efs = byAction('elasticfilesystem:ClientMount');
    expect(efs).toHaveLength(1);
    expect(JSON.stringify(efs[0].Resource)).toMatch(/:file-system\/",\{"Fn::GetStackOutput":\{"StackName":"GeuseData-[a-z-]+","OutputName":"FileSystemId"\}\}/);
    expect(efs[0].Action).toEqual(expect.arrayContaining(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']));
    const secrets = byAction('secretsmanager:GetSecretValue');
    expect(secrets).toHaveLength(2);
    const secretNames = secrets.map((s) => (s.Resource as unknown[]).map((r) => JSON.stringify(r).match(/:secret:geusemaker\/[a-z-]+\/([a-z0-9-]+)-\?\?\?\?\?\?"(\]\]\})?$/)?.[1]).sort());
    expect(secretNames).toEqual([
      STORED_SECRET_PURPOSES.map((s) => s.purpose).sort(),
      DERIVED_SECRET_PURPOSES.map((s) => s.purpose).sort(),
    ]);
    expect(secrets[1].Action).toBe('secretsmanager:GetSecretValue');
    const s3 = byAction('s3:GetObject');
    expect(JSON.stringify(s3[0].Resource)).toMatch(/\/[0-9a-f]{64}\.zip"/);
  });

  test('nothing on port 22 and nothing open to the world, in either stack', () => {
    for (const template of [compute, data]) {
      for (const rule of ingressRules(template)) {
        expect(coversPort(rule, 22)).toBe(false);
        expect(isWorldOpen(rule)).toBe(false);
      }
    }
  });

  test('by default n8n is not reachable from any network: no ingress to the host at all', () => {
    expect(ingressRules(compute)).toEqual([]);
  });

  test('user data stays small and holds no secret value, only references', () => {
    const userData = JSON.stringify(launchTemplateData(compute).UserData);
    expect(Buffer.byteLength(userData)).toBeLessThan(16 * 1024 / 2);
    expect(userData).not.toMatch(/SecretString|GenerateSecretString/);
    expect(userData).toContain('GM_SECRETS=');
  });

  test('outputs for gm-ops: tier, auto scaling group, port forwarding', () => {
    compute.hasOutput(OUTPUT_KEYS.tier, { Value: 'dev' });
    compute.hasOutput(OUTPUT_KEYS.autoScalingGroupName, { Value: { Ref: Match.stringLikeRegexp('HostASG') } });
    expect(JSON.stringify(compute.findOutputs(OUTPUT_KEYS.portForwardCommand))).toContain('AWS-StartPortForwardingSession');
  });

  test('the host and its volume carry the deployment and tier tags', () => {
    const specs = launchTemplateData(compute).TagSpecifications;
    for (const spec of specs) expect(spec.Tags).toEqual(expect.arrayContaining([
      { Key: TAG_KEYS.deployment, Value: expect.any(String) }, { Key: TAG_KEYS.tier, Value: 'dev' },
    ]));
    expect(autoScalingGroup(compute).Properties.Tags).toEqual(expect.arrayContaining([
      expect.objectContaining({ Key: TAG_KEYS.tier, Value: 'dev', PropagateAtLaunch: true }),
    ]));
  });
});

describe('dev stack options', () => {
  // One shape for every option: each test reads the part it is about.
  const CIDRS = ['203.0.113.0/24', '198.51.100.7/32'];
  let compute: Template;
  let data: Template;
  let result: ReturnType<typeof synthDeployment>;
  beforeAll(() => {
    result = synthDeployment('my-stack', { tier: 'dev', allowedCidrs: CIDRS, market: 'on-demand', instanceSize: '2xlarge', bootstrapTimeoutMinutes: 50 });
    ({ compute, data } = result);
  });

  test('allowed CIDRs open n8n (5678) to those CIDRs only, in the compute stack', () => {
    const rules = ingressRules(compute);
    expect(rules.map((r) => [r.cidrIp, r.fromPort, r.toPort])).toEqual([
      ['203.0.113.0/24', 5678, 5678], ['198.51.100.7/32', 5678, 5678],
    ]);
    expect(ingressRules(data).every((r) => r.fromPort === 2049)).toBe(true);
  });

  test('on-demand uses no spot at all', () => {
    const distribution = autoScalingGroup(compute).Properties.MixedInstancesPolicy.InstancesDistribution;
    expect(distribution).toMatchObject({ OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 100 });
    expect(distribution.SpotAllocationStrategy).toBeUndefined();
  });

  test('instance size and bootstrap timeout follow the config', () => {
    const group = autoScalingGroup(compute);
    expect(group.CreationPolicy.ResourceSignal.Timeout).toBe('PT50M');
    for (const o of group.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides) expect(o.InstanceType).toMatch(/\.2xlarge$/);
  });

  test('with allowed CIDRs, the host publishes n8n beyond localhost and serves it over HTTPS with a self-signed certificate', () => {
    const settings = hostSettings(compute);
    expect(settings).toContain("GM_N8N_BIND='0.0.0.0'");
    expect(settings).toContain("GM_N8N_TLS='self-signed'");
  });

  test('with allowed CIDRs, n8n\'s URL is HTTPS, also through port forwarding, and the description names the public URL and the certificate warning', () => {
    const [url] = Object.values(compute.findOutputs(OUTPUT_KEYS.n8nUrl));
    expect(url.Value).toBe('https://localhost:5678');
    expect(url.Description).toContain('https://<host public IP>:5678');
    expect(url.Description).toMatch(/self-signed certificate.*browser warns/);
    const [forward] = Object.values(compute.findOutputs(OUTPUT_KEYS.portForwardCommand));
    expect(forward.Description).toMatch(/open https:\/\/localhost:5678$/);
  });

  test('with allowed CIDRs, no synthesis warning: nothing is served over plain HTTP', () => {
    expect(warningsOf(result.app, result.stacks.compute)).toEqual([]);
  });
});

describe('backup sets on the host', () => {
  test('default: daily at 03:00 UTC, 7 sets kept', () => {
    const settings = hostSettings(synthDeployment('my-stack', { tier: 'dev' }).compute);
    expect(settings).toContain("GM_BACKUP_SCHEDULE='*-*-* 03:00:00'");
    expect(settings).toContain("GM_BACKUP_KEEP='7'");
    // The watchdog's boot grace is this deployment's own bootstrap timeout.
    expect(settings).toContain("GM_BOOTSTRAP_TIMEOUT_MINUTES='30'");
  });

  test('the deployment\'s schedule and retention reach the host', () => {
    const settings = hostSettings(synthDeployment('my-stack', { tier: 'dev', backups: { schedule: 'Mon..Fri 22:30', keep: 14 } }).compute);
    expect(settings).toContain("GM_BACKUP_SCHEDULE='Mon..Fri 22:30'");
    expect(settings).toContain("GM_BACKUP_KEEP='14'");
  });
});

describe('dev stack on x86_64 by setting', () => {
  let compute: Template;
  beforeAll(() => ({ compute } = synthDeployment('my-stack', { tier: 'dev', architecture: 'x86_64', instanceSize: 'xlarge' })));

  test('the AL2023 x86_64 AMI', () => {
    expect(launchTemplateData(compute).ImageId).toBe(`resolve:ssm:${AL2023_AMI_PARAMETER}`);
  });

  test('the x86 families only, at the configured size', () => {
    const types = autoScalingGroup(compute).Properties.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType);
    expect(types).toEqual(CPU_FAMILIES.map((family) => `${family}.xlarge`));
  });
});

describe('dev stack on a schedule', () => {
  let compute: Template;
  const scheduledActions = (t: Template) => Object.values(t.findResources('AWS::AutoScaling::ScheduledAction')).map((a) => a.Properties);
  beforeAll(() => ({ compute } = synthDeployment('my-stack', { tier: 'dev', schedule: { timeZone: 'Europe/Berlin', start: '07:30', stop: '19:05' } })));

  test('a start action: desired 1 only at the start time on weekdays (1-5) by default, in the time zone', () => {
    const group = Object.keys(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(scheduledActions(compute)).toContainEqual({
      AutoScalingGroupName: { Ref: group }, Recurrence: '30 7 * * 1-5', TimeZone: 'Europe/Berlin', DesiredCapacity: 1,
    });
  });

  test('a stop action: desired 0 at the stop time, and no other action', () => {
    const group = Object.keys(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(scheduledActions(compute)).toContainEqual({
      AutoScalingGroupName: { Ref: group }, Recurrence: '5 19 * * 1-5', TimeZone: 'Europe/Berlin', DesiredCapacity: 0,
    });
    expect(scheduledActions(compute)).toHaveLength(2);
  });

  test('the days follow the config', () => {
    const days = synthDeployment('my-stack', { tier: 'dev', schedule: { timeZone: 'UTC', days: 'MON,WED,FRI', start: '08:00', stop: '20:00' } }).compute;
    expect(scheduledActions(days).map((a) => a.Recurrence).sort()).toEqual(['0 20 * * 1,3,5', '0 8 * * 1,3,5']);
  });
});

describe('dev stack without allowed CIDRs', () => {
  let compute: Template;
  beforeAll(() => ({ compute } = synthDeployment('my-stack', { tier: 'dev' })));

  test('n8n stays on localhost with TLS off; its URL is plain http through port forwarding', () => {
    const settings = hostSettings(compute);
    expect(settings).toContain("GM_N8N_BIND='127.0.0.1'");
    expect(settings).toContain("GM_N8N_TLS='off'");
    compute.hasOutput(OUTPUT_KEYS.n8nUrl, { Value: 'http://localhost:5678' });
  });
});
