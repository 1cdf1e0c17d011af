/**
 * Every host script passes shellcheck (with -x, so sourced files are followed), and the runtime's
 * own scripts keep the conventions the tests rely on. shellcheck is required, never skipped.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HOST_SCRIPTS_DIR, REPO_ROOT } from './helpers/fake-host';

const scripts = fs
  .readdirSync(HOST_SCRIPTS_DIR)
  .filter((f) => f.endsWith('.sh'))
  .sort();
// bootstrap.sh belongs to the bootstrap (lib/compute); lib.sh is sourced, not run.
const runtimeScripts = scripts.filter((f) => f !== 'bootstrap.sh' && f !== 'lib.sh');

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
    ]),
  );
});

test('shellcheck -x docker/host/*.sh reports nothing', () => {
  const files = scripts.map((f) => path.join('docker', 'host', f));
  const result = spawnSync('shellcheck', ['-x', ...files], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('shellcheck is not installed: install it (apt-get update && apt-get install -y shellcheck) and run the tests again');
  }
  expect(`${result.stdout}${result.stderr}`).toBe('');
  expect(result.status).toBe(0);
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
