/**
 * Compiles ops/dist once before the suite (incremental: fast when nothing changed), for the tests
 * that spawn the real bin (bin/gm-ops.js requires ../dist).
 */
const { execFileSync } = require('child_process');
const path = require('path');

module.exports = async function globalSetup() {
  const ops = path.join(__dirname, '..');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ops] });
  execFileSync(process.execPath, [tsc, '-p', path.join(ops, 'tsconfig.build.json')], { cwd: ops, stdio: 'inherit' });
};
