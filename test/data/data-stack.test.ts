import { Match, Template } from 'aws-cdk-lib/assertions';
import { DERIVED_SECRET_PURPOSES, OUTPUT_KEYS, STORED_SECRET_PURPOSES, TAG_KEYS, parseSecretArns, DRILL_CONTEXT_KEY } from '../../ops/src/contract';
import { hostSubnetOutputKey, originSubnetOutputKey } from '../../lib/data/data-stack';
import { existingVpcContext, synthDeployment } from '../helpers/app';
import { coversPort, ingressRules, isWorldOpen } from '../helpers/network';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const VPC_ID = 'vpc-0abc1234def567890';

const newVpc = () => synthDeployment('my-stack', { tier: 'dev' }).data;
const existingVpc = () => synthDeployment('team', { tier: 'dev', vpcId: VPC_ID, env: { account: ACCOUNT, region: REGION } },
  existingVpcContext(ACCOUNT, REGION, VPC_ID)).data;

describe.each([
  ['new VPC', newVpc],
  ['existing VPC', existingVpc],
])('data stack with a %s', (_case, synth) => {
  let template: Template;
  beforeAll(() => { template = synth(); });

  test('the file system is encrypted, elastic and retained except when its own creation fails', () => {
    template.hasResource('AWS::EFS::FileSystem', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Encrypted: true,
        ThroughputMode: 'elastic',
        PerformanceMode: 'generalPurpose',
        // Not EFS automatic backups: their vault's access policy denies every restore.
        BackupPolicy: { Status: 'DISABLED' },
      }),
    });
  });

  test('AWS Backup backs the file system up daily after the nightly backup set, 35 days, into a retained vault of its own', () => {
    template.hasResource('AWS::Backup::BackupVault', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: Match.objectLike({
        BackupPlanRule: [Match.objectLike({ ScheduleExpression: 'cron(0 5 * * ? *)', Lifecycle: { DeleteAfterDays: 35 } })],
      }),
    });
    const [selection] = Object.values(template.findResources('AWS::Backup::BackupSelection'));
    expect(JSON.stringify(selection.Properties.BackupSelection.Resources)).toContain('elasticfilesystem');
    expect(selection.Properties.BackupSelection.IamRoleArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^BackupRole/), 'Arn'] });
  });

  test('the backup role may back up and restore, and is an output for gm-ops drill', () => {
    const [role] = Object.values(template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'backup.amazonaws.com' } })] } } }));
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toMatch(/AWSBackupServiceRolePolicyForBackup.*AWSBackupServiceRolePolicyForRestores/);
    template.hasOutput('BackupRoleArn', {});
  });

  test('the file system policy refuses clients without TLS and anonymous clients', () => {
    const [fs] = Object.values(template.findResources('AWS::EFS::FileSystem'));
    const statements = fs.Properties.FileSystemPolicy.Statement;
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]));
    expect(statements.some((s: { Effect: string; Principal: unknown }) => s.Effect === 'Allow' && JSON.stringify(s.Principal).includes('"*"')
      && !JSON.stringify(s).includes('AccessedViaMountTarget'))).toBe(false);
  });

  test('a mount target in each of two subnets', () => {
    template.resourceCountIs('AWS::EFS::MountTarget', 2);
  });

  const sgByDescription = (t: Template, pattern: string) =>
    Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp(pattern) } }));

  test('the only ingress in the data stack is NFS to the file system from the host security group', () => {
    const [hostSg] = sgByDescription(template, ' host \\(no ingress');
    const [efsSg] = sgByDescription(template, 'EFS mount targets');
    expect(ingressRules(template)).toEqual([expect.objectContaining({
      groupId: { 'Fn::GetAtt': [efsSg, 'GroupId'] },
      fromPort: 2049, toPort: 2049,
      sourceSecurityGroupId: { 'Fn::GetAtt': [hostSg, 'GroupId'] },
    })]);
  });

  test('no ingress from anywhere and nothing on port 22', () => {
    for (const rule of ingressRules(template)) {
      expect(isWorldOpen(rule)).toBe(false);
      expect(coversPort(rule, 22)).toBe(false);
    }
  });

  test('two stored secrets only (the encryption key and the owner password): the other values are derived on the host', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    const names = Object.values(template.findResources('AWS::SecretsManager::Secret')).map((s) => s.Properties.Name.split('/').pop()).sort();
    expect(names).toEqual(['n8n-encryption-key', 'n8n-owner-password']);
  });

  test('each stored secret is generated and retained, its value never in the template', () => {
    for (const { purpose } of STORED_SECRET_PURPOSES) {
      template.hasResource('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          Name: Match.stringLikeRegexp(`^geusemaker/.+/${purpose}$`),
          GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
          SecretString: Match.absent(),
        }),
      });
    }
  });

  test('outputs the file system id and the secret ARNs for gm-ops', () => {
    template.hasOutput(OUTPUT_KEYS.fileSystemId, {});
    template.hasOutput(OUTPUT_KEYS.secretArns, {});
  });

  test('SecretArns lists the stored purposes, and no derived one', () => {
    const [output] = Object.values(template.findOutputs(OUTPUT_KEYS.secretArns));
    const literal = (output.Value['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'ARN')).join('');
    expect(Object.keys(parseSecretArns(literal)).sort()).toEqual(STORED_SECRET_PURPOSES.map((s) => s.purpose).sort());
    for (const { purpose } of DERIVED_SECRET_PURPOSES) expect(literal).not.toContain(purpose);
  });

  test('every taggable resource carries the deployment and tier tags', () => {
    for (const type of ['AWS::EFS::FileSystem', 'AWS::EC2::SecurityGroup', 'AWS::SecretsManager::Secret']) {
      for (const resource of Object.values(template.findResources(type))) {
        const tags = JSON.stringify(resource.Properties.Tags ?? resource.Properties.FileSystemTags);
        expect(tags).toContain(TAG_KEYS.deployment);
        expect(tags).toContain(JSON.stringify({ Key: TAG_KEYS.tier, Value: 'data' }));
      }
    }
  });
});

describe('data stack with a new VPC', () => {
  let template: Template;
  beforeAll(() => { template = newVpc(); });

  const subnetsWhere = (mapPublicIp: boolean) => Object.entries(template.findResources('AWS::EC2::Subnet'))
    .filter(([, subnet]) => subnet.Properties.MapPublicIpOnLaunch === mapPublicIp).map(([logicalId]) => logicalId);

  test('each host subnet id is an output of its own, besides the joined list', () => {
    const subnets = subnetsWhere(true);
    expect(subnets).toHaveLength(2);
    subnets.forEach((logicalId, index) => template.hasOutput(hostSubnetOutputKey(index), { Value: { Ref: logicalId } }));
    template.hasOutput(OUTPUT_KEYS.hostSubnetIds, {});
  });

  test('public subnets for the host and isolated subnets for an internal load balancer, in two AZs, no NAT gateway', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(subnetsWhere(true)).toHaveLength(2);
    expect(subnetsWhere(false)).toHaveLength(2);
  });

  test('the isolated subnets have no route anywhere but inside the VPC, and each is an output of its own', () => {
    const isolated = subnetsWhere(false);
    const routeTableOf = (subnet: string) => Object.values(template.findResources('AWS::EC2::SubnetRouteTableAssociation'))
      .find((association) => association.Properties.SubnetId.Ref === subnet)!.Properties.RouteTableId.Ref;
    const routes = Object.values(template.findResources('AWS::EC2::Route'));
    for (const [index, subnet] of isolated.entries()) {
      const table = routeTableOf(subnet);
      expect(routes.filter((route) => route.Properties.RouteTableId.Ref === table)).toEqual([]);
      template.hasOutput(originSubnetOutputKey(index), { Value: { Ref: subnet } });
    }
  });

  test('rejected traffic is logged', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });
});

describe('data stack with an existing VPC', () => {
  let template: Template;
  beforeAll(() => { template = existingVpc(); });

  test('creates no VPC and places mount targets in the looked-up subnets', () => {
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::EFS::MountTarget', { SubnetId: 'subnet-0aaa1111aaaa11111' });
    template.hasResourceProperties('AWS::EFS::MountTarget', { SubnetId: 'subnet-0bbb2222bbbb22222' });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: VPC_ID });
  });
});

describe('data stack rebuilt around retained data', () => {
  const FS_ID = 'fs-0123456789abcdef0';
  let template: Template;
  let compute: Template;
  beforeAll(() => ({ data: template, compute } = synthDeployment('my-stack', { tier: 'dev', retainedData: { fileSystemId: FS_ID } })));

  test('the host role may mount that file system only: its id comes from the data stack output that holds the retained id', () => {
    const statements = Object.values(compute.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const efs = statements.filter((s: { Action: string[] }) => [].concat(s.Action as never).some((a: string) => a.startsWith('elasticfilesystem:')));
    expect(efs).toHaveLength(1);
    expect(JSON.stringify(efs[0].Resource)).toContain(':file-system/",{"Fn::GetStackOutput":{"StackName":"GeuseData-my-stack","OutputName":"FileSystemId"}}');
    template.hasOutput(OUTPUT_KEYS.fileSystemId, { Value: FS_ID });
  });

  test('the secrets the host reads are the retained ones, by their fixed names', () => {
    const statements = Object.values(compute.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const secrets = statements.find((s: { Action: string[] }) => [].concat(s.Action as never).includes('secretsmanager:GetSecretValue' as never));
    expect(JSON.stringify(secrets.Resource)).toContain('secret:geusemaker/my-stack/n8n-encryption-key-??????');
  });

  test('creates no file system and no secret', () => {
    template.resourceCountIs('AWS::EFS::FileSystem', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  test('mounts the retained file system in each subnet through a new security group', () => {
    template.resourceCountIs('AWS::EFS::MountTarget', 2);
    template.allResourcesProperties('AWS::EFS::MountTarget', { FileSystemId: FS_ID });
  });

  test('every later deploy reads retainedData from the deployment\'s saved config: a compute deploy (-c name, even -c tier) creates no FileSystem and no Secret in either stack', () => {
    const later = synthDeployment('my-stack', { tier: 'dev', retainedData: { fileSystemId: FS_ID } }, { name: 'my-stack', tier: 'automation' });
    for (const stack of [later.data, later.compute]) {
      stack.resourceCountIs('AWS::EFS::FileSystem', 0);
      stack.resourceCountIs('AWS::SecretsManager::Secret', 0);
    }
    // The same data stack as the restore that rebuilt it (-c retainedFileSystemId), so CloudFormation sees no change.
    const restore = synthDeployment('my-stack', { tier: 'dev' }, { name: 'my-stack', retainedFileSystemId: FS_ID });
    expect(later.data.toJSON()).toEqual(restore.data.toJSON());
  });

  test('outputs the retained file system and the secrets found by name', () => {
    template.hasOutput(OUTPUT_KEYS.fileSystemId, { Value: FS_ID });
    template.hasOutput(OUTPUT_KEYS.secretArns, { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    expect(JSON.stringify(template.findOutputs(OUTPUT_KEYS.secretArns))).toContain('secret:geusemaker/my-stack/n8n-encryption-key');
  });
});

describe('the throwaway deployment of a restore drill (-c geusemaker:drill=<name>)', () => {
  test('gets no AWS Backup plan, vault or role, so a drill leaves nothing behind; other deployments keep theirs', () => {
    const drill = synthDeployment('web-drill', { tier: 'dev' }, { [DRILL_CONTEXT_KEY]: 'web-drill' }).data;
    drill.resourceCountIs('AWS::Backup::BackupVault', 0);
    drill.resourceCountIs('AWS::Backup::BackupPlan', 0);
    expect(Object.keys(drill.findOutputs('BackupRoleArn'))).toEqual([]);
    const other = synthDeployment('web', { tier: 'dev' }, { [DRILL_CONTEXT_KEY]: 'web-drill' }).data;
    other.resourceCountIs('AWS::Backup::BackupPlan', 1);
  });
});
