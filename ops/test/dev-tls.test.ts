/**
 * Dev tier with allowedCidrs serves n8n over HTTPS itself, with a certificate generated on the host
 * (self-signed; the stack's N8nUrl is then https://localhost:5678): status and list show
 * https://<public ip>:5678, and `health --direct` accepts that self-signed certificate for that probe only.
 */
import { entryOf } from '../src/discovery/endpoints';
import type { StackSummary } from '../src/discovery/stacks';
import { probeHttp } from '../src/health/direct-probes';
import { FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { httpServer, selfSignedCertificate, type LocalServer } from './helpers/local-servers';

const now = () => performance.now();
const TLS_URL = 'https://localhost:5678';

const devStack = (n8nUrl: string): StackSummary =>
  ({ stackName: 'GeuseDev-web', deployment: 'web', role: 'dev', status: 'CREATE_COMPLETE', outputs: { N8nUrl: n8nUrl, AutoScalingGroupName: 'asg' }, tags: {} }) as unknown as StackSummary;
const openHost = { instanceId: 'i-1', state: 'running', market: 'spot' as const, publicIp: '203.0.113.10', n8nOpenTo: ['198.51.100.0/24'] };

describe('the dev entry point', () => {
  it('N8nUrl https: the host public entry is https://<ip>:5678, noted as self-signed', () => {
    expect(entryOf(devStack(TLS_URL), openHost)).toEqual({
      label: 'Entry',
      value: 'https://203.0.113.10:5678',
      reach: 'cidrs',
      note: "host public IP, open to 198.51.100.0/24; HTTPS with the host's self-signed certificate",
      selfSigned: true,
    });
  });

  it('N8nUrl http (an older stack): still http, no TLS claim', () => {
    expect(entryOf(devStack('http://localhost:5678'), openHost)).toEqual({
      label: 'Entry',
      value: 'http://203.0.113.10:5678',
      reach: 'cidrs',
      note: 'host public IP, open to 198.51.100.0/24',
    });
  });

  it('list and status show the https entry', async () => {
    const aws = new FakeAws();
    try {
      aws.addDeployment({ name: 'web', outputs: { N8nUrl: TLS_URL }, host: { id: 'i-web', publicIp: '203.0.113.10', openCidrs: ['198.51.100.0/24'] } });
      const list = await runWith({ clients: aws.clients() }, 'list', '--json');
      expect(JSON.parse(list.stdout).deployments[0]).toMatchObject({ entryUrl: 'https://203.0.113.10:5678', entryReach: 'cidrs' });
      const status = await runWith({ clients: aws.clients() }, 'status', 'web');
      expect(status.stdout).toMatch(/Entry\s+https:\/\/203\.0\.113\.10:5678.*self-signed certificate/);
    } finally {
      aws.restore();
    }
  });
});

describe('health --direct over HTTPS with a self-signed certificate', () => {
  let tls: ReturnType<typeof selfSignedCertificate>;
  let server: LocalServer;
  beforeAll(async () => {
    tls = selfSignedCertificate();
    server = await httpServer('ok', { tls });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refused by default (an unknown certificate is an error), accepted when asked, and said so', async () => {
    const url = `${server.url}/healthz/readiness`;
    expect(await probeHttp(url, { timeoutMs: 3000, now })).toMatchObject({ ok: false, detail: 'TLS error (DEPTH_ZERO_SELF_SIGNED_CERT)' });
    expect(await probeHttp(url, { timeoutMs: 3000, now, acceptSelfSigned: true })).toMatchObject({ ok: true, detail: 'HTTP 200 (self-signed certificate accepted)' });
  });

  it('accepting self-signed still reports the service: a 503 behind it fails', async () => {
    server.behaviour = 'fail';
    try {
      expect(await probeHttp(`${server.url}/healthz/readiness`, { timeoutMs: 3000, now, acceptSelfSigned: true })).toMatchObject({
        ok: false,
        detail: 'HTTP 503 (self-signed certificate accepted)',
      });
    } finally {
      server.behaviour = 'ok';
    }
  });

  it('only the dev tier\'s self-signed entry is accepted: an automation entry with that certificate fails', async () => {
    const aws = new FakeAws();
    try {
      aws.addDeployment({ name: 'auto', tier: 'automation', outputs: { EntryUrl: server.url }, host: { id: 'i-auto' } });
      const result = await runWith({ clients: aws.clients() }, 'health', 'auto', '--direct', '--timeout', '3s');
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/auto\s+n8n\s+http \/healthz\/readiness\s+FAIL\s+\d+ ms\s+TLS error \(DEPTH_ZERO_SELF_SIGNED_CERT\) via the entry URL/);
    } finally {
      aws.restore();
    }
  });

  it('the dev host\'s https entry (its public IP, port 5678) is probed over https, self-signed accepted', async () => {
    // The entry is https://<public ip>:5678: listen on 5678 of a loopback address nothing else uses.
    let devServer: LocalServer | undefined;
    let address = '';
    for (let attempt = 0; !devServer && attempt < 10; attempt += 1) {
      address = `127.77.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
      devServer = await httpServer('ok', { tls, host: address, port: 5678 }).catch(() => undefined);
    }
    if (!devServer) throw new Error('no free loopback address for port 5678');
    const aws = new FakeAws();
    try {
      aws.addDeployment({ name: 'web', outputs: { N8nUrl: TLS_URL }, host: { id: 'i-web', publicIp: address, openCidrs: ['198.51.100.0/24'] } });
      const result = await runWith({ clients: aws.clients() }, 'health', 'web', '--direct', '--timeout', '3s');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/web\s+n8n\s+http \/healthz\/readiness\s+OK\s+\d+ ms\s+HTTP 200 \(self-signed certificate accepted\) via the host public IP \(.*self-signed certificate\)/);
      expect(devServer.requests).toBe(1);
    } finally {
      aws.restore();
      await devServer.close();
    }
  });
});
