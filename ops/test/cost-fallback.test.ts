/**
 * Issue 13 defect 5: whatever goes wrong with the Price List API (a 5xx, an HTML page instead of JSON,
 * no answer in time, a thrown error that is not AWS's), `gm-ops cost` falls back to the shipped table,
 * labelled OFFLINE with the reason; only a user interrupt stops it. Through the real bin against a
 * local server standing in for the Price List endpoint.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PricingClient } from '@aws-sdk/client-pricing';
import { loadOfflineTable } from '../src/cost/offline-table';
import { PriceBook } from '../src/cost/price-book';
import { Interrupted } from '../src/errors';
import { FakeClock } from './helpers/harness';
import { listenTracked } from './helpers/local-servers';
import { bareEnv, gmOps } from './helpers/spawn-bin';

type Answer = 'html-503' | 'html-200' | 'hang';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-fallback-'));
let answer: Answer = 'html-503';
let requests = 0;
let closeServer: () => Promise<void>;
let port = 0;

/** What a load balancer or captive portal in front of an endpoint answers: an HTML page. */
const HTML_PAGE = '<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n';

beforeAll(async () => {
  const server = http.createServer((request, response) => {
    requests += 1;
    request.resume();
    if (answer === 'hang') return;
    response.writeHead(answer === 'html-503' ? 503 : 200, { 'content-type': 'text/html' });
    response.end(HTML_PAGE);
  });
  ({ port, close: closeServer } = await listenTracked(server));
});

afterAll(async () => {
  await closeServer();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** One on-demand m6i.large host with a 50 GB gp3 root volume, and two secrets. */
const TEMPLATE = path.join(tmp, 'GeuseDev-shop.template.json');
fs.writeFileSync(
  TEMPLATE,
  JSON.stringify({
    Resources: {
      LaunchTemplate: {
        Type: 'AWS::EC2::LaunchTemplate',
        Properties: { LaunchTemplateData: { InstanceType: 'm6i.large', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 50, VolumeType: 'gp3' } }] } },
      },
      Group: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MinSize: '1', MaxSize: '1', LaunchTemplate: { LaunchTemplateId: { Ref: 'LaunchTemplate' }, Version: '1' } } },
      SecretA: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
      SecretB: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    },
  }),
);

function pricingEndpointEnv(): NodeJS.ProcessEnv {
  return bareEnv(tmp, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
    GM_OPS_AWS_CONNECT_TIMEOUT_MS: '300',
    GM_OPS_AWS_REQUEST_TIMEOUT_MS: '300',
    GM_OPS_AWS_MAX_ATTEMPTS: '1',
  });
}

// From the shipped table (us-east-1): m6i.large x 730 h + 50 GB gp3 + 2 secrets.
const table = loadOfflineTable();
const usEast = (key: string) => table.lookup('us-east-1', key, false)![0].price;
const expectedMonthly = usEast('ec2:m6i.large').mul(730).add(usEast('ebs:gp3:storage').mul(50)).add(usEast('secrets:secret').mul(2)).toString();

describe('gm-ops cost when the Price List API fails in a way it does not recognise', () => {
  it.each([
    ['a 503 with an HTML page', 'html-503' as Answer, /^pricing:GetProducts answered something that is not a price list \(HTTP 503\)$/],
    ['an HTML page with 200', 'html-200' as Answer, /^pricing:GetProducts answered something that is not a price list/],
    ['no answer in time', 'hang' as Answer, /^pricing:GetProducts did not answer in time$/],
  ])('%s: the offline table, labelled with the reason, exit 0', async (_label, behaviour, reason) => {
    answer = behaviour;
    const before = requests;
    const result = await gmOps(['cost', '--template', TEMPLATE, '--region', 'us-east-1', '--no-cache', '--json'], { env: pricingEndpointEnv(), cwd: tmp });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ source: 'offline', totalMonthlyCost: expectedMonthly });
    expect(doc.offlineReason).toMatch(reason);
    expect(result.stderr).toBe(`gm-ops: offline estimate: ${doc.offlineReason} (price table as of ${table.asOf})\n`);
    // AWS was really asked (once: the first failure turns the rest to the table).
    expect(requests - before).toBe(1);
    const text = await gmOps(['cost', '--template', TEMPLATE, '--region', 'us-east-1', '--no-cache'], { env: pricingEndpointEnv(), cwd: tmp });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Estimate of GeuseDev-shop in us-east-1 \(OFFLINE ESTIMATE\)/);
    expect(text.stdout).toContain(`not live prices: ${doc.offlineReason}`);
  });
});

describe('the price book on failures that are not AWS errors', () => {
  const failing = (error: unknown) => () => ({ send: async () => Promise.reject(error) }) as unknown as PricingClient;

  it('a thrown non-AWS error (a bug, a broken proxy library): the table, with the error named', async () => {
    const book = new PriceBook({ region: 'us-east-1', clock: new FakeClock(), table, pricing: failing(new TypeError("Cannot read properties of undefined (reading 'PriceList')")) });
    const quote = await book.list('ec2:m6i.large');
    expect(quote.source).toBe('offline');
    expect(quote.tiers[0].price.toString()).toBe(usEast('ec2:m6i.large').toString());
    expect(book.unreachable.pricing).toBe("pricing:GetProducts failed: TypeError: Cannot read properties of undefined (reading 'PriceList')");
  });

  it('throttling that outlasted the retries: the table, saying so', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const book = new PriceBook({ region: 'us-east-1', clock: new FakeClock(), table, pricing: failing(throttled) });
    expect((await book.list('elb:alb')).source).toBe('offline');
    expect(book.unreachable.pricing).toBe('pricing:GetProducts throttled the requests');
  });

  it('a user interrupt is not a failure to fall back from: it ends the command', async () => {
    const controller = new AbortController();
    const abortError = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    const book = new PriceBook({
      region: 'us-east-1',
      clock: new FakeClock(),
      table,
      signal: controller.signal,
      pricing: () => ({ send: async () => { controller.abort(); throw abortError; } }) as unknown as PricingClient,
    });
    await expect(book.list('ec2:m6i.large')).rejects.toBeInstanceOf(Interrupted);
  });
});
