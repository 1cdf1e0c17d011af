/**
 * Issue 13 defect 5, the template side: a template given twice is priced once (with a note on stderr),
 * and an estimate with no price in it never claims to be "live".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOfflineTable } from '../src/cost/offline-table';
import { runWith } from './helpers/harness';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-input-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const write = (name: string, resources: object): string => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify({ Resources: resources }));
  return file;
};

const DATA = write('GeuseData-shop.template.json', {
  SecretA: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
  SecretB: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
  SecretC: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
});
const ROLES_ONLY = write('GeuseRoles-shop.template.json', { Role: { Type: 'AWS::IAM::Role', Properties: {} } });

const run = (...args: string[]) => runWith({ env: { GM_OPS_CACHE_DIR: path.join(tmp, 'cache') } }, 'cost', ...args);

describe('gm-ops cost --template', () => {
  it('the same template twice (another spelling of its path) is priced once, with a note on stderr', async () => {
    const again = path.join(tmp, '..', path.basename(tmp), '.', path.basename(DATA));
    const result = await run('--template', DATA, '--template', again, '--region', 'us-east-1', '--offline', '--json');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`gm-ops: --template ${again} was given more than once: counted once\n`);
    const doc = JSON.parse(result.stdout);
    expect(doc.templates).toEqual(['GeuseData-shop']);
    const secretPrice = loadOfflineTable().lookup('us-east-1', 'secrets:secret', false)![0].price;
    expect(doc.totalMonthlyCost).toBe(secretPrice.mul(3).toString());
  });

  it('secrets are counted from the template\'s own AWS::SecretsManager::Secret resources', async () => {
    const result = await run('--template', DATA, '--region', 'us-east-1', '--offline');
    expect(result.stdout.split('\n').find((l) => l.includes('├─ Secrets'))).toMatch(/\s3\s+secret-months\s/);
  });

  it('nothing priced at all: "no prices", never "live prices"', async () => {
    const text = await run('--template', ROLES_ONLY, '--region', 'us-east-1', '--offline');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Estimate of GeuseRoles-shop in us-east-1 \(no prices\)/);
    expect(text.stdout).toMatch(/Prices\s+no prices: nothing here is priced by gm-ops/);
    const json = await run('--template', ROLES_ONLY, '--region', 'us-east-1', '--offline', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ source: 'none', totalMonthlyCost: '0' });
  });
});
