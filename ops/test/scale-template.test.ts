/**
 * What `gm-ops start` reads of a scale deployment's compute template (lifecycle/scale-state.ts, declaredCounts): the
 * root CDK app's own synthesized GeuseScale-my-stack (test/helpers/synth-sets.js, the default `{ "tier": "scale" }`),
 * so the reader cannot drift from what is deployed: the main's DesiredCount, the workers' scalable target's bounds,
 * and no DesiredCount for the workers (their scaling owns it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { declaredCounts } from '../src/lifecycle/scale-state';
import { OpsError } from '../src/errors';
import { synthesizedSets } from './helpers/synth-sets';

let template: string;
beforeAll(async () => {
  const { dirs } = await synthesizedSets(['scale']);
  template = fs.readFileSync(path.join(dirs.scale, 'GeuseScale-my-stack.template.json'), 'utf8');
}, 180_000);

it('the synthesized template declares one main, no webhook processor, and workers scaling 1 to 4 (the defaults)', () => {
  expect(declaredCounts(template, 'GeuseScale-my-stack')).toEqual({ desired: { main: 1 }, workers: { min: 1, max: 4 } });
});

it('a template that is not JSON: one line naming the stack and what to do', () => {
  expect(() => declaredCounts('Resources:\n  Main: {}\n', 'GeuseScale-x')).toThrow(OpsError);
  expect(() => declaredCounts('Resources:\n  Main: {}\n', 'GeuseScale-x')).toThrow('the template of GeuseScale-x is not JSON: gm-ops reads the template the CDK app deploys');
});
