/** `health --direct` against real local HTTP and TCP servers (127.0.0.1, ephemeral ports). */
import { probeHttp, probeTcp } from '../src/health/direct-probes';
import { FakeAws } from './helpers/fake-aws';
import { Harness, runWith } from './helpers/harness';
import { closedPort, httpServer, tcpServer, type LocalServer } from './helpers/local-servers';

const now = () => performance.now();

describe('direct probes', () => {
  let ok: LocalServer;
  let hanging: LocalServer;
  beforeAll(async () => {
    ok = await httpServer('ok');
    hanging = await httpServer('hang');
  });
  afterAll(async () => {
    await ok.close();
    await hanging.close();
  });

  it('HTTP: 200 is up, with its latency', async () => {
    const result = await probeHttp(`${ok.url}/healthz/readiness`, { timeoutMs: 2000, now });
    expect(result).toMatchObject({ ok: true, detail: 'HTTP 200' });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.latencyMs).toBeLessThan(2000);
  });

  it('HTTP: a server that accepts and never answers ends at the timeout', async () => {
    const started = now();
    const result = await probeHttp(`${hanging.url}/healthz/readiness`, { timeoutMs: 250, now });
    const elapsed = now() - started;
    expect(result).toMatchObject({ ok: false, detail: 'no response within 250 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(750);
  });

  it('HTTP and TCP: a closed port is refused at once', async () => {
    const port = await closedPort();
    expect(await probeHttp(`http://127.0.0.1:${port}/healthz/readiness`, { timeoutMs: 2000, now })).toMatchObject({ ok: false, detail: 'connection refused' });
    expect(await probeTcp('127.0.0.1', port, { timeoutMs: 2000, now })).toMatchObject({ ok: false, detail: 'connection refused' });
  });

  it('TCP: connects to a silent TCP server', async () => {
    const server = await tcpServer();
    try {
      expect(await probeTcp('127.0.0.1', server.port, { timeoutMs: 2000, now })).toMatchObject({ ok: true, detail: 'connected' });
    } finally {
      await server.close();
    }
  });
});

describe('gm-ops health --direct', () => {
  let aws: FakeAws;
  let servers: LocalServer[];
  beforeEach(async () => {
    aws = new FakeAws();
    servers = await Promise.all([httpServer('ok'), httpServer('fail'), httpServer('hang')]);
    ['good', 'sick', 'stuck'].forEach((name, i) =>
      aws.addDeployment({ name, tier: 'automation', outputs: { EntryUrl: servers[i].url }, host: { id: `i-${name}` } }),
    );
  });
  afterEach(async () => {
    aws.restore();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('probes every deployment at once; a hanging one still ends within the probe timeout; exit 1', async () => {
    const started = performance.now();
    const result = await runWith({ clients: aws.clients() }, 'health', '--direct', '--timeout', '400ms');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(400 * 1.2 + 300);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const row = (deployment: string, service: string) =>
      result.stdout.split('\n').find((l) => new RegExp(`^${deployment}\\s+${service}\\s`).test(l)) ?? '';
    expect(row('good', 'n8n')).toMatch(/http \/healthz\/readiness\s+OK\s+\d+ ms\s+HTTP 200 via the entry URL/);
    expect(row('good', 'entry')).toMatch(/tcp \d+\s+OK\s+\d+ ms\s+127\.0\.0\.1:\d+: connected/);
    expect(row('good', 'host')).toMatch(/ec2\s+OK\s+-\s+i-good running \(spot\)/);
    expect(row('good', 'qdrant')).toMatch(/SKIP\s+-\s+not exposed/);
    expect(row('sick', 'n8n')).toMatch(/FAIL\s+\d+ ms\s+HTTP 503 via the entry URL/);
    expect(row('stuck', 'n8n')).toMatch(/FAIL\s+\d+ ms\s+no response within 400 ms/);
    expect(row('stuck', 'entry')).toMatch(/OK/);
  });

  it('exit 0 when everything is healthy; --json gives one document', async () => {
    const result = await runWith({ clients: aws.clients() }, 'health', 'good', '--direct', '--json');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ mode: 'direct', healthy: true, round: 1 });
    expect(doc.services.map((s: { service: string; state: string }) => `${s.service}:${s.state}`)).toEqual([
      'host:OK',
      'entry:OK',
      'n8n:OK',
      'postgres:SKIP',
      'ollama:SKIP',
      'qdrant:SKIP',
      'crawl4ai:SKIP',
    ]);
    expect(typeof doc.services[2].latencyMs).toBe('number');
  });

  it('a dev deployment reached through port forwarding only is UNKNOWN, not healthy', async () => {
    aws.addDeployment({ name: 'private', tier: 'dev', host: { id: 'i-private', publicIp: '203.0.113.50' } });
    const result = await runWith({ clients: aws.clients() }, 'health', 'private', '--direct');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/private\s+n8n\s+http \/healthz\/readiness\s+UNKNOWN\s+-\s+n8n is reached through SSM port forwarding only \(no allowedCidrs\)/);
  });
});

describe('gm-ops health --watch (fake clock)', () => {
  let aws: FakeAws;
  let server: LocalServer;
  beforeEach(async () => {
    aws = new FakeAws();
    server = await httpServer('ok');
    aws.addDeployment({ name: 'flaky', tier: 'automation', outputs: { EntryUrl: server.url }, host: { id: 'i-flaky' } });
  });
  afterEach(async () => {
    aws.restore();
    await server.close();
  });

  it('counts consecutive failures: CRITICAL on the third in a row, recovers to OK', async () => {
    // Round 1 ok, rounds 2-5 failing, round 6 ok again.
    const plan = ['ok', 'fail', 'fail', 'fail', 'fail', 'ok'] as const;
    const harness = new Harness({
      clients: aws.clients(),
      onSleep: (_ms, h) => {
        const next = h.sleeps.length; // rounds done so far
        if (next >= plan.length) h.abort();
        else server.behaviour = plan[next];
      },
    });
    server.behaviour = plan[0];
    const result = await harness.run('health', 'flaky', '--direct', '--watch', '--json');
    const rounds = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const n8n = rounds.map((r) => r.services.find((s: { service: string }) => s.service === 'n8n'));
    expect(n8n.map((s) => `${s.state}/${s.consecutiveFailures}`)).toEqual(['OK/0', 'FAIL/1', 'FAIL/2', 'CRITICAL/3', 'CRITICAL/4', 'OK/0']);
    expect(rounds.map((r) => r.healthy)).toEqual([true, false, false, false, false, true]);
    // Every 30 s by default, on the injected clock: no real waiting.
    expect(harness.sleeps).toEqual([30_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
    expect(Date.parse(rounds[5].at) - Date.parse(rounds[0].at)).toBe(150_000);
    expect(result.code).toBe(0); // the last round was healthy
  });

  it('redraws a table per round with the failure count; exit 1 when it ends unhealthy', async () => {
    const harness = new Harness({
      clients: aws.clients(),
      onSleep: (_ms, h) => {
        server.behaviour = 'fail';
        if (h.sleeps.length >= 4) h.abort();
      },
    });
    const result = await harness.run('health', 'flaky', '--direct', '--watch', '--interval', '10s');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/round 1 at 2025-01-15 12:00:00Z: healthy/);
    expect(result.stdout).toMatch(/round 2 at 2025-01-15 12:00:10Z: unhealthy/);
    expect(result.stdout).toMatch(/flaky\s+n8n\s+http \/healthz\/readiness\s+FAIL 1\/3/);
    expect(result.stdout).toMatch(/flaky\s+n8n\s+http \/healthz\/readiness\s+FAIL 2\/3/);
    expect(result.stdout).toMatch(/round 4 .*\n[\s\S]*flaky\s+n8n\s+http \/healthz\/readiness\s+CRITICAL/);
    expect(result.stdout).not.toContain('\u001b[2J'); // not a TTY: no screen clearing
  });

  it('clears the screen between rounds on a terminal', async () => {
    const harness = new Harness({ clients: aws.clients(), terminal: { redraw: true }, onSleep: (_ms, h) => h.abort() });
    const result = await harness.run('health', 'flaky', '--direct', '--watch');
    expect(result.stdout.startsWith('\u001b[H\u001b[2J')).toBe(true);
  });
});
