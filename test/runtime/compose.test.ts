/**
 * docker/compose.yml and docker/compose.gpu.yml, parsed as YAML and checked against the shared
 * contract (SERVICES, SECRET_PURPOSES, HOST_PATHS). The bash and node healthchecks are also run for
 * real against a local HTTP server, so a broken probe fails here rather than on a host.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as tls from 'tls';
import * as path from 'path';
import { parse } from 'yaml';
import { HOST_PATHS, SECRET_PURPOSES, SERVICES } from '../../ops/src/contract';
import { RUNTIME_DIR } from './helpers/fake-host';

interface Healthcheck {
  test: string[] | string;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}
interface Service {
  image: string;
  restart?: string;
  healthcheck?: Healthcheck;
  ports?: (string | { host_ip?: string; target: number; published?: string | number })[];
  volumes?: (string | { type?: string; source: string; target: string; read_only?: boolean; bind?: { create_host_path?: boolean } })[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  shm_size?: string;
  mem_limit?: string;
  runtime?: string;
  gpus?: unknown;
  deploy?: { resources?: { limits?: { memory?: string }; reservations?: { devices?: { driver?: string; capabilities?: string[]; count?: unknown }[] } } };
}
interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
}

const composeText = fs.readFileSync(path.join(RUNTIME_DIR, 'compose.yml'), 'utf8');
const gpuText = fs.readFileSync(path.join(RUNTIME_DIR, 'compose.gpu.yml'), 'utf8');
const compose = parse(composeText) as ComposeFile;
/** compose.yml without its comment lines (compose interpolates values, not comments). */
const composeValues = composeText.replace(/^\s*#.*$/gm, '');
const gpu = parse(gpuText) as ComposeFile;

const SECRET_VARS = SECRET_PURPOSES.map((s) => s.envVar);

function testCommand(service: Service): string[] {
  const t = service.healthcheck!.test;
  return Array.isArray(t) ? t : ['CMD-SHELL', t];
}

/** Bytes of a compose memory value (512m, 1g, 1536m...). */
function bytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg])b?$/i.exec(value.trim());
  if (!m) throw new Error(`not a memory size: ${value}`);
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

function memoryLimit(service: Service): string | undefined {
  return service.deploy?.resources?.limits?.memory ?? service.mem_limit;
}

/** [host ip, host port, container port] of a short-syntax port ("127.0.0.1:6333:6333"). */
function port(entry: Service['ports'] extends (infer E)[] | undefined ? E : never): [string, string, string] {
  if (typeof entry !== 'string') throw new Error(`use the short port syntax: ${JSON.stringify(entry)}`);
  const m = /^(.+):(\d+):(\d+)$/.exec(entry);
  if (!m) throw new Error(`port without a host address: ${entry}`);
  return [m[1], m[2], m[3]];
}

function volumeSource(service: Service, target: string): string | undefined {
  for (const v of service.volumes ?? []) {
    if (typeof v === 'string') {
      // SOURCE:TARGET[:ro|rw]; SOURCE may itself hold a "${VAR:-default}".
      const m = /^(.*):(\/[^:]+)(?::(?:ro|rw))?$/.exec(v);
      if (m && m[2] === target) return m[1];
    } else if (v.target === target) return v.source;
  }
  return undefined;
}

/** The default of a `${VAR:-default}` reference. */
function interpolationDefault(value: string, variable: string): string {
  const m = new RegExp(`\\$\\{${variable}:-([^}]*)\\}`).exec(value);
  if (!m) throw new Error(`${value} does not use \${${variable}:-default}`);
  return value.replace(m[0], m[1]);
}

describe('compose.yml', () => {
  test('runs exactly the services of the contract, as project "geusemaker"', () => {
    expect(compose.name).toBe('geusemaker');
    expect(Object.keys(compose.services).sort()).toEqual(SERVICES.map((s) => s.name).sort());
  });

  test.each(SERVICES.map((s) => s.name))('%s: pinned image tag, never latest', (name) => {
    const image = compose.services[name].image;
    expect(image).toMatch(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*:[A-Za-z0-9._-]+$/);
    const tag = image.slice(image.lastIndexOf(':') + 1);
    expect(tag).not.toBe('latest');
    expect(tag).toMatch(/^v?\d+(\.\d+){1,2}(-[a-z0-9.]+)?$/);
  });

  test('docker/versions.env, the one manifest of runtime versions, names exactly the images compose.yml runs', () => {
    const manifest = Object.fromEntries(
      fs.readFileSync(path.join(RUNTIME_DIR, 'versions.env'), 'utf8').split('\n')
        .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    for (const name of Object.keys(compose.services)) {
      expect([name, manifest[`GM_${name.toUpperCase()}_IMAGE`]]).toEqual([name, compose.services[name].image]);
    }
    expect(manifest.GM_RUNTIME_VERSION).toMatch(/^\d{4}\.\d{1,2}\.\d+$/);
  });

  test('the images are the expected upstream projects', () => {
    const repos = Object.fromEntries(Object.entries(compose.services).map(([n, s]) => [n, s.image.split(':')[0]]));
    expect(repos).toEqual({
      postgres: 'postgres',
      ollama: 'ollama/ollama',
      qdrant: 'qdrant/qdrant',
      n8n: 'n8nio/n8n',
      crawl4ai: 'unclecode/crawl4ai',
    });
    // postgres runs as uid 70 in the alpine image: start.sh chowns its EFS directory to 70.
    expect(compose.services.postgres.image).toMatch(/-alpine$/);
  });

  test('pins the versions checked upstream: PostgreSQL 17, Qdrant 1.19, Crawl4AI 0.9.3 or later', () => {
    const tag = (name: string) => compose.services[name].image.split(':')[1];
    // n8n 2.x treats PostgreSQL 16 as compatibility-only.
    expect(tag('postgres')).toMatch(/^17\.\d+-alpine$/);
    // Single-node Qdrant cannot skip minor versions once it holds data: the current minor before any data.
    expect(tag('qdrant')).toMatch(/^v1\.19\.\d+$/);
    // 0.9.0 answers 500 to real requests, 0.9.1 does not start, 0.9.2 fails where IPv6 is off.
    const [major, minor, patch] = tag('crawl4ai').split('.').map(Number);
    expect(major * 10000 + minor * 100 + patch).toBeGreaterThanOrEqual(903);
  });

  test('every EFS path is a long-syntax bind that never creates its source (a missing mount fails the start)', () => {
    const efsBinds = Object.entries(compose.services).flatMap(([name, service]) =>
      (service.volumes ?? []).filter((v) => JSON.stringify(v).includes('GM_EFS_MOUNT')).map((v) => [name, v] as const),
    );
    expect(efsBinds.map(([name, v]) => `${name} ${typeof v === 'string' ? v : v.target}`).sort()).toEqual([
      'n8n /home/node/.n8n',
      'n8n /home/node/tls',
      'ollama /root/.ollama',
      'postgres /var/lib/postgresql/data',
    ]);
    for (const [name, v] of efsBinds) {
      expect(`${name} ${typeof v}`).toBe(`${name} object`);
      if (typeof v === 'string') continue;
      expect(`${name} ${v.target} ${v.type} create_host_path=${v.bind?.create_host_path}`).toBe(`${name} ${v.target} bind create_host_path=false`);
    }
  });

  test("n8n's certificate directory is mounted read-only", () => {
    const tls = (compose.services.n8n.volumes ?? []).find((v) => typeof v !== 'string' && v.target === '/home/node/tls');
    expect(tls).toMatchObject({ source: '${GM_EFS_MOUNT:-/mnt/efs}/tls', read_only: true });
  });

  test.each(SERVICES.map((s) => [s.name, s] as const))('%s: healthcheck on the contract endpoint', (name, contract) => {
    const service = compose.services[name];
    expect(service.healthcheck).toBeDefined();
    const cmd = testCommand(service);
    expect(cmd[0]).toBe('CMD');
    const joined = cmd.join(' ');
    if (contract.health.kind === 'http') {
      const { path: healthPath } = contract.health;
      const viaUrl =
        joined.includes(`http://127.0.0.1:${contract.port}${healthPath}'`) || joined.includes(`://127.0.0.1:${contract.port}${healthPath}'`);
      const viaTcp = joined.includes(`/dev/tcp/127.0.0.1/${contract.port} `) && joined.includes(`GET ${healthPath} HTTP/1.0`);
      expect(viaUrl || viaTcp).toBe(true);
    } else {
      expect(cmd[1]).toBe('pg_isready');
      expect(joined).toContain(`--port=${contract.port}`);
    }
    const hc = service.healthcheck!;
    expect(hc.interval).toMatch(/^\d+s$/);
    expect(hc.timeout).toMatch(/^\d+s$/);
    expect(hc.retries).toBeGreaterThanOrEqual(3);
    expect(hc.start_period).toMatch(/^\d+s$/);
  });

  test('Qdrant is probed on /readyz, and neither Qdrant nor Ollama relies on curl or wget (their images have neither)', () => {
    for (const name of ['qdrant', 'ollama']) {
      const cmd = testCommand(compose.services[name]);
      expect(cmd[1]).toBe('bash');
      expect(cmd.join(' ')).not.toMatch(/\b(curl|wget)\b/);
    }
    expect(testCommand(compose.services.qdrant).join(' ')).toContain('GET /readyz ');
  });

  test.each(SERVICES.map((s) => s.name))('%s: restart policy and memory limit', (name) => {
    const service = compose.services[name];
    expect(['always', 'unless-stopped']).toContain(service.restart);
    expect(memoryLimit(service)).toBeDefined();
  });

  test('memory limits fit the default dev host (8 GiB): at most 7 GiB in total', () => {
    const total = Object.values(compose.services).reduce((sum, s) => sum + bytes(memoryLimit(s)!), 0);
    expect(total).toBeLessThanOrEqual(7 * 1024 ** 3);
    expect(bytes(memoryLimit(compose.services.ollama)!)).toBeGreaterThanOrEqual(2 * 1024 ** 3);
  });

  test('only n8n (GM_N8N_BIND) and the AI services\' contract ports (GM_AI_SERVICES_BIND) may bind beyond 127.0.0.1, both by default on 127.0.0.1', () => {
    // The scale tier's AI host publishes Ollama, Qdrant's HTTP API and Crawl4AI to the n8n tasks (host/start.sh passes
    // GM_AI_SERVICES_BIND on GM_ROLE=ai-services only); Qdrant's gRPC port and PostgreSQL never leave the host.
    const aiPorts: Record<string, string> = { ollama: '11434', qdrant: '6333', crawl4ai: '11235' };
    const beyondLoopback: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      for (const entry of service.ports ?? []) {
        const [hostIp, , containerPort] = port(entry);
        if (name === 'n8n') {
          expect(hostIp).toBe('${GM_N8N_BIND:-127.0.0.1}');
          expect(interpolationDefault(hostIp, 'GM_N8N_BIND')).toBe('127.0.0.1');
          expect(containerPort).toBe('5678');
        } else if (hostIp !== '127.0.0.1') {
          expect(hostIp).toBe('${GM_AI_SERVICES_BIND:-127.0.0.1}');
          expect(interpolationDefault(hostIp, 'GM_AI_SERVICES_BIND')).toBe('127.0.0.1');
          beyondLoopback.push(`${name}:${containerPort}`);
        }
      }
    }
    expect(beyondLoopback.sort()).toEqual(Object.entries(aiPorts).map(([name, p]) => `${name}:${p}`).sort());
    expect(compose.services.n8n.ports).toHaveLength(1);
    // Each HTTP service publishes its contract port on the host's loopback (gm-ops probes them).
    for (const s of SERVICES) {
      const published = (compose.services[s.name].ports ?? []).map((p) => port(p)).map(([, host, c]) => `${host}:${c}`);
      expect(published).toContain(`${s.port}:${s.port}`);
    }
  });

  test('Qdrant storage is on local disk, never on the EFS mount; n8n, PostgreSQL and Ollama are on EFS', () => {
    const qdrant = volumeSource(compose.services.qdrant, '/qdrant/storage')!;
    expect(qdrant).toBe('${GM_QDRANT_LOCAL_DIR:-/var/lib/geusemaker/qdrant}');
    expect(qdrant).not.toContain('GM_EFS_MOUNT');
    expect(interpolationDefault(qdrant, 'GM_QDRANT_LOCAL_DIR').startsWith(HOST_PATHS.efsMount)).toBe(false);
    for (const v of compose.services.qdrant.volumes ?? []) expect(JSON.stringify(v)).not.toContain('GM_EFS_MOUNT');

    const onEfs = {
      n8n: ['/home/node/.n8n', 'n8n'],
      postgres: ['/var/lib/postgresql/data', 'postgres'],
      ollama: ['/root/.ollama', 'ollama'],
    } as const;
    for (const [name, [target, dir]] of Object.entries(onEfs)) {
      const source = volumeSource(compose.services[name], target)!;
      expect(source).toBe(`\${GM_EFS_MOUNT:-${HOST_PATHS.efsMount}}/${dir}`);
    }
    // PGDATA in a subdirectory of the mount, so initdb never meets a non-empty mount point.
    expect(compose.services.postgres.environment!.PGDATA).toBe('/var/lib/postgresql/data/pgdata');
  });

  test('start order follows health: n8n waits for healthy PostgreSQL, Ollama and Qdrant', () => {
    const deps = compose.services.n8n.depends_on!;
    expect(Object.keys(deps).sort()).toEqual(['ollama', 'postgres', 'qdrant']);
    for (const dep of Object.values(deps)) expect(dep.condition).toBe('service_healthy');
    for (const service of Object.values(compose.services)) {
      for (const dep of Object.values(service.depends_on ?? {})) expect(dep.condition).toBe('service_healthy');
    }
  });

  test('n8n: PostgreSQL, its keys, webhook URL from GM_N8N_PUBLIC_URL, diagnostics off', () => {
    const env = compose.services.n8n.environment!;
    expect(env.DB_TYPE).toBe('postgresdb');
    expect(env.DB_POSTGRESDB_HOST).toBe('postgres');
    expect(env.DB_POSTGRESDB_DATABASE).toBe(compose.services.postgres.environment!.POSTGRES_DB);
    expect(env.DB_POSTGRESDB_USER).toBe(compose.services.postgres.environment!.POSTGRES_USER);
    expect(env.DB_POSTGRESDB_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(compose.services.postgres.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(env.N8N_ENCRYPTION_KEY).toMatch(/^\$\{N8N_ENCRYPTION_KEY:\?/);
    expect(env.N8N_USER_MANAGEMENT_JWT_SECRET).toMatch(/^\$\{N8N_USER_MANAGEMENT_JWT_SECRET:\?/);
    expect(env.N8N_DIAGNOSTICS_ENABLED).toBe('false');
  });

  test('n8n: webhook URL through N8N_WEBHOOK_URL (WEBHOOK_URL is deprecated in n8n 2.x)', () => {
    const env = compose.services.n8n.environment!;
    expect(env.N8N_WEBHOOK_URL).toMatch(/^\$\{GM_N8N_PUBLIC_URL:-/);
    expect(env.N8N_EDITOR_BASE_URL).toBe(env.N8N_WEBHOOK_URL);
    expect(Object.keys(env)).not.toContain('WEBHOOK_URL');
  });

  test('n8n: HTTPS settings come from the host scripts (plain http by default), the session cookie stays Secure by default', () => {
    const env = compose.services.n8n.environment!;
    expect(env.N8N_PROTOCOL).toBe('${GM_N8N_PROTOCOL:-http}');
    expect(env.N8N_SSL_KEY).toBe('${GM_N8N_SSL_KEY:-}');
    expect(env.N8N_SSL_CERT).toBe('${GM_N8N_SSL_CERT:-}');
    // Never switched off: every tier serves n8n over HTTPS or on localhost.
    expect(env.N8N_SECURE_COOKIE).toBe('true');
  });

  test('Qdrant gets its API key, Crawl4AI its token and shared memory', () => {
    expect(compose.services.qdrant.environment!.QDRANT__SERVICE__API_KEY).toMatch(/^\$\{QDRANT_API_KEY:\?/);
    expect(compose.services.crawl4ai.environment!.CRAWL4AI_API_TOKEN).toMatch(/^\$\{CRAWL4AI_API_TOKEN:\?/);
    expect(bytes(compose.services.crawl4ai.shm_size!)).toBeGreaterThanOrEqual(1024 ** 3);
  });

  test('interpolation: secrets are required (${X:?}), settings have defaults (${GM_X:-}), no stray $', () => {
    const refs = [...composeValues.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:[-?])?[^}]*\}/g)];
    expect(refs.length).toBeGreaterThan(0);
    for (const [whole, name, op] of refs) {
      if ((SECRET_VARS as readonly string[]).includes(name)) expect(`${whole} ${op}`).toMatch(/ :\?$/);
      else {
        expect(name).toMatch(/^GM_/);
        expect(`${whole} ${op}`).toMatch(/ :-$/);
      }
    }
    // Every secret the stack uses is wired (the owner password is for the bootstrap, not compose).
    for (const name of SECRET_VARS.filter((v) => v !== 'N8N_OWNER_PASSWORD')) expect(composeValues).toContain(`\${${name}:?`);
    // A lone "$" would be interpolated by compose; shell variables are written "$$".
    expect(composeValues.replace(/\$\$|\$\{/g, '')).not.toContain('$');
  });

  test('the CPU file never reserves a GPU', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(`${name}: ${JSON.stringify(service.deploy?.resources?.reservations ?? {})}`).toBe(`${name}: {}`);
      expect(service.runtime).toBeUndefined();
      expect(service.gpus).toBeUndefined();
    }
    expect(composeText).not.toMatch(/nvidia/i);
  });
});

describe('compose.gpu.yml', () => {
  test('gives Ollama the NVIDIA GPUs and nothing else a GPU', () => {
    expect(Object.keys(gpu.services)).toEqual(['ollama']);
    const devices = gpu.services.ollama.deploy!.resources!.reservations!.devices!;
    expect(devices).toEqual([{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }]);
    // An override only: it adds no image or port of its own.
    expect(gpu.services.ollama.image).toBeUndefined();
    expect(gpu.services.ollama.ports).toBeUndefined();
    expect(bytes(memoryLimit(gpu.services.ollama)!)).toBeGreaterThan(bytes(memoryLimit(compose.services.ollama)!));
  });
});

describe('env.example (local mode)', () => {
  const example = fs.readFileSync(path.join(RUNTIME_DIR, 'env.example'), 'utf8');
  const entries = Object.fromEntries(
    example
      .split('\n')
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

  test('lists every secret, empty (compose refuses to start until they are filled in)', () => {
    for (const name of SECRET_VARS) expect(entries[name]).toBe('');
  });

  test('keeps n8n on localhost and the data directories under docker/.data', () => {
    expect(entries.GM_N8N_BIND).toBe('127.0.0.1');
    expect(entries.GM_EFS_MOUNT).toBe('./.data/efs');
    expect(entries.GM_QDRANT_LOCAL_DIR.startsWith(entries.GM_EFS_MOUNT)).toBe(false);
    // Every setting compose reads is documented there.
    const settings = new Set([...composeValues.matchAll(/\$\{(GM_[A-Z0-9_]+)/g)].map((m) => m[1]));
    for (const name of settings) {
      // computed by the host scripts / advanced
      if (['GM_N8N_PROXY_HOPS', 'GM_N8N_PROTOCOL', 'GM_N8N_SSL_KEY', 'GM_N8N_SSL_CERT', 'GM_AI_SERVICES_BIND'].includes(name)) continue;
      expect(Object.keys(entries)).toContain(name);
    }
  });
});

describe('the healthcheck commands really work', () => {
  let server: http.Server;
  let status = 200;
  let seen: string[] = [];
  let serverPort = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'not ready');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverPort = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen = [];
    status = 200;
  });

  /** Runs a service's healthcheck as Docker would (compose unescapes $$), aimed at the test server. */
  function probe(name: string, env: Record<string, string> = {}, port = serverPort): Promise<number | null> {
    const contract = SERVICES.find((s) => s.name === name)!;
    const [, program, ...args] = testCommand(compose.services[name]).map((a) =>
      a
        .replace(/\$\$/g, '$')
        .replace(`/dev/tcp/127.0.0.1/${contract.port}`, `/dev/tcp/127.0.0.1/${port}`)
        .replace(`127.0.0.1:${contract.port}`, `127.0.0.1:${port}`),
    );
    return new Promise((resolve, reject) => {
      const child = spawn(program === 'node' ? process.execPath : program, args, {
        stdio: 'ignore',
        timeout: 10000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      });
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
  }

  test.each(['ollama', 'qdrant', 'n8n'])('%s: healthy on 200, unhealthy otherwise', async (name) => {
    const healthPath = (SERVICES.find((s) => s.name === name)!.health as { path: string }).path;
    expect(await probe(name)).toBe(0);
    expect(seen).toEqual([healthPath]);
    status = 503;
    expect(await probe(name)).not.toBe(0);
  });

  describe('n8n over https (GM_N8N_TLS=self-signed)', () => {
    const fixtures = path.join(__dirname, 'fixtures');
    const cert = path.join(fixtures, 'n8n-test.crt');
    let tlsServer: https.Server;
    let tlsPort = 0;
    let tlsStatus = 200;

    beforeAll(async () => {
      tlsServer = https.createServer({ key: fs.readFileSync(path.join(fixtures, 'n8n-test.key')), cert: fs.readFileSync(cert) }, (req, res) => {
        res.writeHead(req.url === '/healthz/readiness' ? tlsStatus : 404);
        res.end();
      });
      await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
      tlsPort = (tlsServer.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    });

    test("healthy over https with n8n's own certificate as the only CA, unhealthy on 503", async () => {
      const env = { N8N_PROTOCOL: 'https', N8N_SSL_CERT: cert };
      tlsStatus = 200;
      expect(await probe('n8n', env, tlsPort)).toBe(0);
      tlsStatus = 503;
      expect(await probe('n8n', env, tlsPort)).not.toBe(0);
    });

    test("with another CA than n8n's own certificate the check fails (the certificate is really verified)", async () => {
      tlsStatus = 200;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-other-ca-'));
      try {
        const otherCa = path.join(dir, 'other.crt');
        fs.writeFileSync(otherCa, tls.rootCertificates[0]);
        expect(await probe('n8n', { N8N_PROTOCOL: 'https', N8N_SSL_CERT: otherCa }, tlsPort)).not.toBe(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test('plain http is probed without TLS when N8N_PROTOCOL is unset', async () => {
      status = 200;
      expect(await probe('n8n')).toBe(0);
    });
  });
});
