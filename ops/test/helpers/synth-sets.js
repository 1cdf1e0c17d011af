/**
 * The root CDK app's templates the cost tests price, synthesized by the test file that needs them (one process for
 * its sets: scripts/synth-deployments.ts). The estimate can never drift from what would be deployed: the templates
 * are kept in node_modules/.cache/geusemaker under a hash of every file synthesis reads (the app, the runtime asset,
 * cdk.json, the lockfile), like jest keeps its transforms, and made again whenever one of them changes.
 */
const crypto = require('crypto');
const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..', '..');
const SCHEDULE = { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '08:00', stop: '20:00' };

/** Each set is one app: `my-stack` with the settings named. */
const SETS = {
  dev: { 'my-stack': { tier: 'dev' } },
  'dev-scheduled': { 'my-stack': { tier: 'dev', schedule: SCHEDULE } },
  scale: { 'my-stack': { tier: 'scale' } },
};

function args(outdir, names) {
  const sets = Object.fromEntries(names.map((name) => [name, SETS[name]]));
  return [path.join(ROOT, 'scripts', 'synth-deployments.ts'), outdir, JSON.stringify(sets)];
}
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** A hash of every file the synthesis reads. */
function inputsHash() {
  const hash = crypto.createHash('sha256');
  const add = (file) => {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(file).sort()) add(path.join(file, entry));
    } else {
      hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
    }
  };
  for (const input of ['lib', 'bin', 'docker', 'scripts/synth-deployments.ts', 'cdk.json', 'package-lock.json', 'tsconfig.json']) {
    add(path.join(ROOT, input));
  }
  add(__filename);
  return hash.digest('hex').slice(0, 16);
}

const CACHE = path.join(ROOT, 'node_modules', '.cache', 'geusemaker');

/**
 * The folders holding `sets`' templates (by set): from the cache when nothing synthesis reads has changed, else from
 * one synthesis of those sets in one process (inside the test file, so the other core stays busy meanwhile).
 */
async function synthesizedSets(sets) {
  const dir = path.join(CACHE, `synth-${inputsHash()}`);
  const missing = sets.filter((set) => !fs.existsSync(path.join(dir, set)));
  if (missing.length > 0) {
    fs.mkdirSync(CACHE, { recursive: true });
    const outdir = fs.mkdtempSync(path.join(CACHE, 'synth-tmp-'));
    try {
      await new Promise((resolve, reject) => execFile(TSX, args(outdir, missing), { cwd: ROOT }, (error) => (error ? reject(error) : resolve())));
      fs.mkdirSync(dir, { recursive: true });
      for (const set of missing) {
        try {
          fs.renameSync(path.join(outdir, set), path.join(dir, set));
        } catch (error) {
          if (!fs.existsSync(path.join(dir, set))) throw error; // another worker put the same set there first
        }
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
    // Older hashes are stale: only the current one is kept.
    for (const entry of fs.readdirSync(CACHE)) {
      if (entry.startsWith('synth-') && !entry.startsWith('synth-tmp-') && path.join(CACHE, entry) !== dir) {
        fs.rmSync(path.join(CACHE, entry), { recursive: true, force: true });
      }
    }
  }
  return { dirs: Object.fromEntries(sets.map((set) => [set, path.join(dir, set)])), cleanup: () => {} };
}

module.exports = { SETS, SCHEDULE, synthesizedSets };
