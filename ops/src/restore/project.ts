/**
 * Is gm-ops running inside the GeuseMaker project? Looks up the directory tree for a cdk.json whose
 * app is the GeuseMaker CDK app; restore runs `npx cdk deploy` there, and otherwise prints the command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Project {
  readonly root: string;
  readonly cdkJson: string;
}

export function findProject(start: string): Project | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const cdkJson = path.join(dir, 'cdk.json');
    try {
      const app = (JSON.parse(fs.readFileSync(cdkJson, 'utf8')) as { app?: unknown }).app;
      if (typeof app === 'string' && /geusemaker/i.test(app)) return { root: dir, cdkJson };
    } catch {
      // no cdk.json here, or not ours: keep looking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
