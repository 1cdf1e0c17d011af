import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { TIERS } from '../../ops/src/contract';
import { buildApp } from '../../lib/app';
import { contextWith } from '../helpers/app';

describe('switching tier never touches the data', () => {
  const dataTemplateFor = (tier: string) => {
    const app = new App({ context: contextWith({ 'my-stack': { tier: 'dev' } }, { name: 'my-stack', tier }) });
    const [stacks] = buildApp(app);
    return Template.fromStack(stacks.data).toJSON();
  };

  test('the data stack is identical whichever tier is selected', () => {
    const [dev, ...others] = TIERS.map(dataTemplateFor);
    for (const other of others) expect(other).toEqual(dev);
  });

  test('every tier names the group after the deployment: deploying a second tier before destroying the first fails to create', () => {
    const names = TIERS.map((tier) => {
      const app = new App({ context: contextWith({ 'my-stack': { tier } }) });
      const [stacks] = buildApp(app);
      return Object.values(Template.fromStack(stacks.compute).findResources('AWS::AutoScaling::AutoScalingGroup'))[0].Properties.AutoScalingGroupName;
    });
    expect(new Set(names)).toEqual(new Set(['geusemaker-my-stack']));
  });

  test('one compute stack per deployment, named after its tier', () => {
    for (const tier of TIERS) {
      const app = new App({ context: contextWith({ 'my-stack': { tier } }) });
      buildApp(app);
      const names = app.node.children.map((c) => c.node.id).filter((id) => id.startsWith('Geuse'));
      expect(names.sort()).toEqual(['GeuseData-my-stack', `Geuse${tier === 'dev' ? 'Dev' : tier === 'gpu' ? 'Gpu' : 'Automation'}-my-stack`].sort());
    }
  });
});
