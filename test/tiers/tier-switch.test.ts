import { App } from 'aws-cdk-lib';

import { OUTPUT_KEYS, TIERS, Tier, computeStackName, dataStackName, scaleDataStackName } from '../../ops/src/contract';
import { hostSubnetOutputKey } from '../../lib/data/data-stack';
import { synthDeployment } from '../helpers/app';

const SINGLE_HOST_TIERS = TIERS.filter((tier) => tier !== 'scale');

describe('switching tier never touches the data', () => {
  // The deployment declared as dev in cdk.json, switched with -c name and -c tier: each tier synthesized once.
  let byTier: Map<Tier, ReturnType<typeof synthDeployment>>;
  beforeAll(() => {
    byTier = new Map(TIERS.map((tier) => [tier, synthDeployment('my-stack', { tier: 'dev' }, { name: 'my-stack', tier })]));
  });
  const of = (tier: Tier) => byTier.get(tier)!;

  test('the data stack is identical whichever tier is selected', () => {
    const [dev, ...others] = TIERS.map((tier) => of(tier).data.toJSON());
    for (const other of others) expect(other).toEqual(dev);
  });

  test('every single-host tier names the group after the deployment: deploying a second one before destroying the first fails to create', () => {
    const names = SINGLE_HOST_TIERS.map((tier) => Object.values(of(tier).compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0].Properties.AutoScalingGroupName);
    expect(new Set(names)).toEqual(new Set(['geusemaker-my-stack']));
  });

  test('the scale tier\'s AI host has a group name of its own, so gm-ops migrate can run both tiers until the new one works', () => {
    const [group] = Object.values(of('scale').compute.findResources('AWS::AutoScaling::AutoScalingGroup'));
    expect(group.Properties.AutoScalingGroupName).toBe('geusemaker-my-stack-ai');
  });

  test('one compute stack per deployment, named after its tier', () => {
    for (const tier of TIERS) {
      const names = (of(tier).app as App).node.children.map((c) => c.node.id).filter((id) => id.startsWith('Geuse'));
      const expected = [dataStackName('my-stack'), computeStackName(tier, 'my-stack'), ...(tier === 'scale' ? [scaleDataStackName('my-stack')] : [])];
      expect(names.sort()).toEqual(expected.sort());
    }
  });

  test('every compute stack outputs its bootstrap timeout (gm-ops restore waits that long for a booting host): 30/30/45/30 by default', () => {
    const declared = TIERS.map((tier) => of(tier).compute.findOutputs(OUTPUT_KEYS.bootstrapTimeoutMinutes)[OUTPUT_KEYS.bootstrapTimeoutMinutes]?.Value);
    expect(declared).toEqual(['30', '30', '45', '30']);
  });

  test('the bootstrap timeout output follows bootstrapTimeoutMinutes from the configuration', () => {
    const { compute } = synthDeployment('my-stack', { tier: 'dev', bootstrapTimeoutMinutes: 90 });
    compute.hasOutput(OUTPUT_KEYS.bootstrapTimeoutMinutes, { Value: '90' });
  });

  test('every compute stack reads each host subnet from its own data stack output, never a split list (cfn-lint E1017)', () => {
    of('dev').data.hasOutput(hostSubnetOutputKey(0), {});
    of('dev').data.hasOutput(hostSubnetOutputKey(1), {});
    for (const tier of TIERS) {
      const compute = JSON.stringify(of(tier).compute.toJSON());
      expect(compute).not.toContain('Fn::Split');
      expect(compute).toContain(JSON.stringify({ 'Fn::GetStackOutput': { StackName: dataStackName('my-stack'), OutputName: hostSubnetOutputKey(1) } }));
    }
  });
});

describe('subnets of an auto scaling group', () => {
  test('the host\'s group spans both subnets, each from its own output', () => {
    const { compute } = synthDeployment('my-stack', { tier: 'dev' }, { name: 'my-stack', tier: 'dev' });
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.VPCZoneIdentifier).toEqual([0, 1].map((index) => ({
      'Fn::GetStackOutput': { StackName: dataStackName('my-stack'), OutputName: hostSubnetOutputKey(index) },
    })));
  });
});

