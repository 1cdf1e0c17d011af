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

  test('one compute stack per deployment, named after its tier', () => {
    for (const tier of TIERS) {
      const app = new App({ context: contextWith({ 'my-stack': { tier } }) });
      buildApp(app);
      const names = app.node.children.map((c) => c.node.id).filter((id) => id.startsWith('Geuse'));
      expect(names.sort()).toEqual(['GeuseData-my-stack', `Geuse${tier === 'dev' ? 'Dev' : tier === 'gpu' ? 'Gpu' : 'Automation'}-my-stack`].sort());
    }
  });
});
