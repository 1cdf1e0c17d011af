/**
 * The runtime's own host scripts keep the conventions the tests rely on. (shellcheck runs in `npm run lint`,
 * not here: the tests must pass on a machine without it.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { HOST_SCRIPTS_DIR } from './helpers/fake-host';

const scripts = fs
  .readdirSync(HOST_SCRIPTS_DIR)
  .filter((f) => f.endsWith('.sh'))
  .sort();
// bootstrap.sh and functional-check.sh have their own owners and tests; lib.sh, backup-lib.sh and upgrade-lib.sh are sourced, not run.
const runtimeScripts = scripts.filter((f) => !['bootstrap.sh', 'functional-check.sh', 'lib.sh', 'backup-lib.sh', 'upgrade-lib.sh'].includes(f));

test('the runtime ships its host scripts', () => {
  expect(scripts).toEqual(
    expect.arrayContaining([
      'lib.sh',
      'start.sh',
      'stop.sh',
      'install-services.sh',
      'spot-watcher.sh',
      'pull-models.sh',
      'qdrant-snapshot.sh',
      'expose-n8n.sh',
    ]),
  );
});

test.each(runtimeScripts)('%s: strict mode, the shared library, no command by absolute path', (name) => {
  const text = fs.readFileSync(path.join(HOST_SCRIPTS_DIR, name), 'utf8');
  expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
  expect(text).toMatch(/^set -euo pipefail$/m);
  expect(text).toContain('source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"');
  // Commands are found through PATH, so tests can stub them.
  const code = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
  expect(code).not.toMatch(/(^|[\s;|&(`])\/(usr\/)?(s?bin|local)\/[a-z]/m);
});
