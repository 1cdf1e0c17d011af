/** The status and health host scripts under dash and bash, against the stub docker and curl. */
import { containersScript, parseContainers } from '../src/host/containers';
import { hostProbeScript, parseHostProbes } from '../src/health/host-probes';
import { StubHost } from './helpers/stub-host';

const TOKEN = 'abc123xyz';
let host: StubHost;
beforeEach(() => {
  host = new StubHost({
    containers: { n8n: 'c1', postgres: 'c2', extra: 'c9' },
    inspect: {
      c1: { service: 'n8n', status: 'running', health: 'healthy', restarts: 0, startedAt: '2025-01-15T09:00:00.5Z', image: 'n8nio/n8n:1.80.0' },
      c2: { service: 'postgres', status: 'restarting', health: 'starting', restarts: 7, startedAt: '0001-01-01T00:00:00Z', image: 'postgres:16.6' },
      c9: { service: 'extra', status: 'running', health: 'none', restarts: 0, startedAt: '2025-01-15T09:00:00Z', image: 'busybox:1' },
    },
    pg: { exit: 2 },
    curl: { 'http://127.0.0.1:5678/healthz/readiness': { code: 200, time: 0.031 } },
  });
});
afterEach(() => host.cleanup());

describe.each(['dash', 'bash'])('under %s', (shell) => {
  it('containers: one docker inspect pass, every contract service reported (missing ones too)', () => {
    const script = containersScript(TOKEN);
    // The real Go template (the stub only echoes fields in this order).
    expect(script).toContain(`{{index .Config.Labels "com.docker.compose.service"}}\t{{.State.Status}}\t{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}\t{{.RestartCount}}`);
    const report = parseContainers(host.run(script, shell), TOKEN);
    expect(report.dockerAvailable).toBe(true);
    expect(report.containers).toEqual([
      { service: 'n8n', state: 'running', health: 'healthy', restarts: 0, startedAt: '2025-01-15T09:00:00.5Z', image: 'n8nio/n8n:1.80.0' },
      { service: 'postgres', state: 'restarting', health: 'starting', restarts: 7, startedAt: undefined, image: 'postgres:16.6' },
      { service: 'ollama', state: 'missing', health: 'missing', restarts: 0 },
      { service: 'qdrant', state: 'missing', health: 'missing', restarts: 0 },
      { service: 'crawl4ai', state: 'missing', health: 'missing', restarts: 0 },
      { service: 'extra', state: 'running', health: 'none', restarts: 0, startedAt: '2025-01-15T09:00:00Z', image: 'busybox:1' },
    ]);
  });

  it('containers: Docker down', () => {
    host.state.down = true;
    expect(parseContainers(host.run(containersScript(TOKEN), shell), TOKEN).dockerAvailable).toBe(false);
  });

  it('probes: curl and pg_isready results, refused ports, missing containers', () => {
    const results = parseHostProbes(host.run(hostProbeScript(TOKEN, 5000), shell), TOKEN, 5000);
    expect(results.map((r) => [r.service, r.check, r.outcome, r.detail])).toEqual([
      ['n8n', 'http /healthz/readiness', 'up', 'HTTP 200 /healthz/readiness · docker healthy'],
      ['postgres', 'pg_isready', 'down', 'container restarting, 7 restarts'],
      ['ollama', 'http /api/version', 'down', 'no container'],
      ['qdrant', 'http /readyz', 'down', 'no container'],
      ['crawl4ai', 'http /health', 'down', 'no container'],
    ]);
    expect(results[0].latencyMs).toBeCloseTo(31);
  });

  it('probes: the curl time limit and pg_isready run with the probe timeout', () => {
    const script = hostProbeScript(TOKEN, 2500);
    expect(script).toContain('--max-time 3');
    expect(script).toContain('pg_isready -q -h 127.0.0.1 -p 5432');
    expect(script).toContain('timeout 5 docker exec');
  });
});

it('probes: a pg_isready that answers is up', () => {
  host.state.inspect!.c2.status = 'running';
  host.state.inspect!.c2.health = 'healthy';
  host.state.pg = { exit: 0 };
  const postgres = parseHostProbes(host.run(hostProbeScript(TOKEN, 5000)), TOKEN, 5000).find((r) => r.service === 'postgres')!;
  expect(postgres).toMatchObject({ outcome: 'up', detail: 'accepting connections · docker healthy' });
  expect(postgres.latencyMs).toBeGreaterThanOrEqual(0);
});
