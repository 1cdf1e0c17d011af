import { eventOf, FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

const STACK = 'GeuseDev-my-stack';

describe('gm-ops status of a healthy deployment', () => {
  beforeEach(() => {
    aws.addDeployment({
      name: 'my-stack',
      outputs: { PortForwardCommand: 'aws ssm start-session --target i-0abc --document-name AWS-StartPortForwardingSession' },
      host: { id: 'i-0abc', spot: true, az: 'eu-west-1b', type: 't3.xlarge', publicIp: '203.0.113.9', openCidrs: ['192.0.2.0/24'] },
    });
    aws.events.set(STACK, [
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'CREATE_COMPLETE', 20),
      eventOf(STACK, 'HostGroup', 'AWS::AutoScaling::AutoScalingGroup', 'CREATE_COMPLETE', 19),
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'CREATE_IN_PROGRESS', 0, 'User Initiated'),
    ]);
    aws.hosts.set('i-0abc', (script) => containerLines(tokenOf(script), ALL_RUNNING));
  });

  it('shows About, Endpoints, Services (one SSM command) and events, and exits 0', async () => {
    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Compute stack\s+GeuseDev-my-stack\s+CREATE_COMPLETE/);
    expect(stdout).toMatch(/Data stack\s+GeuseData-my-stack\s+CREATE_COMPLETE/);
    expect(stdout).toMatch(/Host\s+i-0abc\s+running \(InService, Healthy\)/);
    expect(stdout).toMatch(/Instance type\s+t3\.xlarge/);
    expect(stdout).toMatch(/Market\s+spot/);
    expect(stdout).toMatch(/AZ\s+eu-west-1b/);
    expect(stdout).toMatch(/File system\s+fs-my-stack/);
    expect(stdout).toMatch(/Entry\s+http:\/\/203\.0\.113\.9:5678  \(host public IP, open to 192\.0\.2\.0\/24\)/);
    expect(stdout).toMatch(/n8n\s+http:\/\/localhost:5678/);
    expect(stdout).toMatch(/Port forward\s+aws ssm start-session --target i-0abc/);
    expect(stdout).toMatch(/n8n\s+running\s+healthy\s+0\s+\S+ ago\s+n8nio\/n8n:1\.80\.0/);
    expect(stdout).toMatch(/ollama\s+running\s+no healthcheck configured/);
    expect(stdout).toMatch(/Recent events \(GeuseDev-my-stack\)/);
    expect(stdout).not.toContain('Problems');
    expect(aws.scripts).toHaveLength(1);
    expect(aws.scripts[0].script).toContain("docker inspect --format");
  });

  it('--json gives one document with services and host', async () => {
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({
      deployment: 'my-stack',
      region: 'eu-west-1',
      healthy: true,
      tier: 'dev',
      computeStack: { name: STACK, status: 'CREATE_COMPLETE', condition: 'ok', remedy: null },
      host: { instanceId: 'i-0abc', market: 'spot', availabilityZone: 'eu-west-1b' },
      fileSystemId: 'fs-my-stack',
    });
    expect(doc.services.containers.map((c: { service: string }) => c.service)).toEqual(['n8n', 'postgres', 'ollama', 'qdrant', 'crawl4ai']);
  });

  it('exits 1 when a container is down, and names it', async () => {
    aws.hosts.set('i-0abc', (script) =>
      containerLines(tokenOf(script), ALL_RUNNING.map((c) => (c.service === 'qdrant' ? { ...c, state: 'exited', health: 'unhealthy', restarts: 4 } : c))),
    );
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(code).toBe(1);
    expect(stdout).toMatch(/qdrant\s+exited\s+unhealthy\s+4/);
  });

  it('a container that does not exist: "no container", never "no healthcheck configured"', async () => {
    aws.hosts.set('i-0abc', (script) => containerLines(tokenOf(script), ALL_RUNNING.filter((c) => c.service !== 'crawl4ai')));
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(code).toBe(1);
    const row = stdout.split('\n').find((line) => /^\s*crawl4ai\s/.test(line));
    expect(row).toMatch(/crawl4ai\s+missing\s+no container\s/);
  });

  it('still reports (exit 1) when the SSM agent is offline', async () => {
    aws.agents.set('i-0abc', 'ConnectionLost');
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(code).toBe(1);
    expect(stdout).toContain('not read: host i-0abc is not reachable through SSM: its SSM agent lost the connection (PingStatus ConnectionLost)');
    expect(stdout).toMatch(/Host\s+i-0abc/);
  });
});

describe('gm-ops status of a stuck stack', () => {
  it('ROLLBACK_COMPLETE: names the state, the root cause, and the delete-stack command', async () => {
    aws.addDeployment({ name: 'my-stack', status: 'ROLLBACK_COMPLETE', host: null });
    aws.events.set(STACK, [
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'ROLLBACK_COMPLETE', 40),
      eventOf(STACK, 'HostGroup', 'AWS::AutoScaling::AutoScalingGroup', 'DELETE_COMPLETE', 39),
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'ROLLBACK_IN_PROGRESS', 31, 'The following resource(s) failed to create: [HostGroup].'),
      eventOf(STACK, 'HostRole', 'AWS::IAM::Role', 'CREATE_FAILED', 31, 'Resource creation cancelled'),
      eventOf(STACK, 'HostGroup', 'AWS::AutoScaling::AutoScalingGroup', 'CREATE_FAILED', 30, 'Received 0 SUCCESS signal(s) out of 1. Unable to satisfy 100% MinSuccessfulInstancesPercent requirement'),
      eventOf(STACK, 'HostGroup', 'AWS::AutoScaling::AutoScalingGroup', 'CREATE_IN_PROGRESS', 2),
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'CREATE_IN_PROGRESS', 0, 'User Initiated'),
      // An older operation's failure must not be blamed.
      eventOf(STACK, 'Old', 'AWS::EC2::Instance', 'CREATE_FAILED', -100, 'old failure'),
    ]);
    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toContain('GeuseDev-my-stack is stuck in ROLLBACK_COMPLETE: creation failed and CloudFormation rolled it back');
    expect(stdout).toContain('cause  HostGroup (AWS::AutoScaling::AutoScalingGroup) CREATE_FAILED: Received 0 SUCCESS signal(s) out of 1');
    const problems = stdout.slice(stdout.indexOf('Problems'), stdout.indexOf('Recent events'));
    expect(problems).not.toContain('old failure');
    expect(problems).not.toContain('Resource creation cancelled');
    expect(stdout).toContain('fix    aws cloudformation delete-stack --stack-name GeuseDev-my-stack --region eu-west-1');
    expect(stdout).toMatch(/Host\s+none in the auto scaling group/);

    const json = JSON.parse((await runWith({ clients: aws.clients() }, 'status', 'my-stack', '--json')).stdout);
    expect(json.computeStack).toMatchObject({
      status: 'ROLLBACK_COMPLETE',
      condition: 'stuck',
      remedy: 'aws cloudformation delete-stack --stack-name GeuseDev-my-stack --region eu-west-1',
    });
    expect(json.computeStack.failures[0].logicalId).toBe('HostGroup');
  });

  it('UPDATE_ROLLBACK_FAILED: continue-update-rollback', async () => {
    aws.addDeployment({ name: 'my-stack', status: 'UPDATE_ROLLBACK_FAILED', host: { id: 'i-1' } });
    aws.hosts.set('i-1', (script) => containerLines(tokenOf(script), ALL_RUNNING));
    aws.events.set(STACK, [
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_FAILED', 9, 'The following resource(s) failed to update: [LaunchTemplate].'),
      eventOf(STACK, 'LaunchTemplate', 'AWS::EC2::LaunchTemplate', 'UPDATE_FAILED', 8, 'Resource handler returned message: "Invalid AMI"'),
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS', 0, 'User Initiated'),
    ]);
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(code).toBe(1);
    expect(stdout).toContain('GeuseDev-my-stack is stuck in UPDATE_ROLLBACK_FAILED');
    expect(stdout).toContain('aws cloudformation continue-update-rollback --stack-name GeuseDev-my-stack --region eu-west-1');
    expect(stdout).toContain('LaunchTemplate (AWS::EC2::LaunchTemplate) UPDATE_FAILED: Resource handler returned message: "Invalid AMI"');
  });

  it('DELETE_FAILED: delete-stack retaining the resources that failed to delete', async () => {
    aws.addDeployment({ name: 'my-stack', status: 'DELETE_FAILED', host: null });
    aws.events.set(STACK, [
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'DELETE_FAILED', 9, 'The following resource(s) failed to delete: [HostSecurityGroup].'),
      eventOf(STACK, 'HostSecurityGroup', 'AWS::EC2::SecurityGroup', 'DELETE_FAILED', 8, 'resource sg-1 has a dependent object'),
      eventOf(STACK, STACK, 'AWS::CloudFormation::Stack', 'DELETE_IN_PROGRESS', 0, 'User Initiated'),
    ]);
    const { stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(stdout).toContain('aws cloudformation delete-stack --stack-name GeuseDev-my-stack --retain-resources HostSecurityGroup --region eu-west-1');
  });

  it('flags a data stack stuck while the compute stack is fine', async () => {
    aws.addDeployment({ name: 'my-stack', dataStatus: 'UPDATE_ROLLBACK_FAILED', host: { id: 'i-2' } });
    aws.hosts.set('i-2', (script) => containerLines(tokenOf(script), ALL_RUNNING));
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(code).toBe(1);
    expect(stdout).toContain('aws cloudformation continue-update-rollback --stack-name GeuseData-my-stack --region eu-west-1');
  });
});

describe('gm-ops status of a tier behind CloudFront', () => {
  const DISTRIBUTION = 'https://d111111abcdef8.cloudfront.net/';
  const INTERNAL_LB = 'internal-GeuseA-Entry-1234567890.eu-west-1.elb.amazonaws.com';
  beforeEach(() => {
    // The outputs GeuseAutomation-<name> declares (lib/compute/cloudfront-entry.ts): EntryUrl, CloudFrontUrl, N8nUrl, LoadBalancerDnsName.
    aws.addDeployment({
      name: 'web',
      tier: 'automation',
      outputs: { EntryUrl: DISTRIBUTION, CloudFrontUrl: DISTRIBUTION, N8nUrl: DISTRIBUTION, LoadBalancerDnsName: INTERNAL_LB },
      host: { id: 'i-0web' },
    });
    aws.hosts.set('i-0web', (script) => containerLines(tokenOf(script), ALL_RUNNING));
  });

  it('shows the HTTPS distribution as the entry point and the load balancer as internal', async () => {
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'web');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Entry\s+https:\/\/d111111abcdef8\.cloudfront\.net\//);
    expect(stdout).toMatch(/Load balancer\s+internal-GeuseA-Entry-1234567890\.eu-west-1\.elb\.amazonaws\.com  \(internal: reached only through CloudFront\)/);
  });

  it('--json marks the load balancer internal, the entry public', async () => {
    const { stdout } = await runWith({ clients: aws.clients() }, 'status', 'web', '--json');
    const doc = JSON.parse(stdout);
    expect(doc.endpoints).toEqual([
      { label: 'Entry', value: DISTRIBUTION, reach: 'public' },
      { label: 'Load balancer', value: INTERNAL_LB, reach: 'internal', note: 'internal: reached only through CloudFront' },
    ]);
  });
});
