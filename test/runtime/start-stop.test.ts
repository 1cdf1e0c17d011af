/**
 * start.sh and stop.sh run for real under bash, with stub docker/curl/sleep/chown/mountpoint on PATH
 * and a temp directory standing in for EFS.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, psTable, SECRETS } from './helpers/fake-host';

const fleet = new FakeFleet();
const newHost = (id = 'a', settings: Record<string, string> = {}): FakeHost => fleet.host(id, settings);

describe('start.sh', () => {
  test('brings the stack up behind the fence, waits for health, imports credentials, exits 0', async () => {
    const host = newHost();
    host.answer('ps', psTable({ n8n: 'running starting', crawl4ai: 'running starting' }), 1);
    host.answer('ps', psTable({ crawl4ai: 'running starting' }), 2);

    const result = await host.run('start.sh');

    expect(result.stderr).toContain('start: done, every service is healthy');
    expect(result.code).toBe(0);
    expect(host.composeSubcommands()).toEqual(['version', 'pull', 'up', 'ps', 'ps', 'ps', 'exec']);
    // Every missing image at once, before anything needs one; a host that has them asks no registry.
    expect(host.dockerCalls()).toContainEqual(expect.stringMatching(/^docker compose .* pull --policy missing --quiet$/));
    // Two unhealthy answers, two bounded waits of GM_HEALTH_INTERVAL (default 10 s).
    expect(host.sleeps()).toEqual(['sleep 10', 'sleep 10']);
    expect(result.stderr).toMatch(/waiting for services to become healthy \(attempt 1\/90\): n8n\(running\/starting\) crawl4ai\(running\/starting\)/);
    // Logged with timestamps, to stderr and to the log file.
    expect(result.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ geusemaker\[start\] INFO /m);
    expect(host.log('start')).toContain('all services healthy');
    // The fence is held by a live holder process, and who holds it is recorded on EFS.
    expect(host.fenceHolderPid()).toBeDefined();
    expect(fleet.efs.lockIsFree()).toBe(false);
    expect(fs.readFileSync(path.join(fleet.efs.dir, '.geusemaker.lock.owner'), 'utf8')).toMatch(/^instance=i-0a host=\S+ pid=\d+ since=\S+Z$/m);
    // The CPU tier never uses the GPU override.
    expect(host.dockerCalls().join('\n')).not.toContain('compose.gpu.yml');
    // Secrets never appear on a command line.
    for (const value of Object.values(SECRETS)) expect(host.calls().join('\n')).not.toContain(value);
  });

  test('a failed image pull is only a warning: docker compose up pulls what is missing and the start goes on', async () => {
    const host = newHost();
    host.answer('compose-pull', 'Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout\n');
    host.exitCode('compose-pull', 1);
    const result = await host.run('start.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('start: docker compose pull failed; docker compose up pulls what is still missing');
    expect(host.composeSubcommands().slice(0, 3)).toEqual(['version', 'pull', 'up']);
  });

  test('prepares the EFS and local directories with the owner each image needs, never world-writable', async () => {
    const host = newHost();
    expect((await host.run('start.sh')).code).toBe(0);

    const chowns = host.calls().filter((c) => c.startsWith('chown '));
    expect(chowns).toEqual(
      expect.arrayContaining([
        `chown 1000:1000 ${fleet.efs.dir}/n8n`,
        `chown 70:70 ${fleet.efs.dir}/postgres`,
        `chown 0:0 ${fleet.efs.dir}/ollama`,
        `chown 0:0 ${fleet.efs.dir}/qdrant-snapshots`,
        `chown 0:0 ${host.qdrantDir}`,
      ]),
    );
    for (const dir of ['n8n', 'postgres', 'ollama', 'qdrant-snapshots'].map((d) => path.join(fleet.efs.dir, d)).concat(host.qdrantDir)) {
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    }
    // Compose gets Qdrant's storage on local disk and everything else on EFS.
    const upEnv = host.readState('up.env');
    expect(upEnv).toContain(`GM_QDRANT_LOCAL_DIR=${host.qdrantDir}\n`);
    expect(host.qdrantDir.startsWith(fleet.efs.dir)).toBe(false);
    expect(upEnv).toContain(`GM_EFS_MOUNT=${fleet.efs.dir}\n`);
  });

  test('host.env settings reach compose', async () => {
    const host = newHost('a', { GM_N8N_PUBLIC_URL: 'http://203.0.113.10:5678/' });
    expect((await host.run('start.sh')).code).toBe(0);
    const upEnv = host.readState('up.env');
    expect(upEnv).toContain('GM_N8N_PUBLIC_URL=http://203.0.113.10:5678/\n');
    expect(upEnv).toContain('GM_N8N_PROTOCOL=http\n');
    expect(upEnv).toContain(`QDRANT_API_KEY=${SECRETS.QDRANT_API_KEY}\n`);
  });

  test('GM_TIER=gpu adds the GPU override file', async () => {
    const host = newHost('a', { GM_TIER: 'gpu' });
    expect((await host.run('start.sh')).code).toBe(0);
    const up = host.dockerCalls().find((c) => / up /.test(c))!;
    expect(up).toContain(`-f ${path.join(path.dirname(host.env().GM_RUNTIME_DIR), 'docker', 'compose.yml')}`);
    expect(up).toContain('compose.gpu.yml');
  });

  test('fails clearly, naming the service that never gets healthy, and releases the fence it took', async () => {
    const host = newHost();
    host.answer('ps', psTable({ crawl4ai: 'running unhealthy', qdrant: 'absent' }));

    const result = await host.run('start.sh', { GM_HEALTH_ATTEMPTS: '4', GM_HEALTH_INTERVAL: '7' });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('services not healthy after 4 attempts: qdrant(missing) crawl4ai(running/unhealthy)');
    expect(result.stderr).toContain('start: FAILED (exit 1)');
    // Bounded: 4 checks, 3 waits of GM_HEALTH_INTERVAL, no real time spent.
    expect(host.sleeps().filter((s) => s === 'sleep 7')).toHaveLength(3);
    // No credential import on an unhealthy stack; the stack is stopped, then the fence let go.
    expect(host.composeSubcommands()).toEqual(['version', 'pull', 'up', 'ps', 'ps', 'ps', 'ps', 'stop']);
    expect(host.fenceHolderPid()).toBeUndefined();
    expect(fleet.efs.lockIsFree()).toBe(true);
    expect(fs.existsSync(path.join(fleet.efs.dir, '.geusemaker.lock.owner'))).toBe(false);
  });

  test('a failing docker compose up is retried, then fails with the unhealthy services named', async () => {
    const host = newHost();
    host.exitCode('up', 1);
    host.answer('up', 'dependency failed to start: container geusemaker-postgres-1 is unhealthy\n');
    host.answer('ps', psTable({ postgres: 'running unhealthy', n8n: 'created' }));

    const result = await host.run('start.sh');

    expect(result.code).toBe(1);
    expect(host.composeSubcommands().filter((s) => s === 'up')).toHaveLength(2);
    expect(result.stderr).toContain('compose: dependency failed to start: container geusemaker-postgres-1 is unhealthy');
    expect(result.stderr).toContain('docker compose up failed 2 times; not healthy: postgres(running/unhealthy) n8n(created/none)');
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('a failed credential import fails the start', async () => {
    const host = newHost();
    host.exitCode('import', 1);
    host.answer('import', 'An error occurred while importing credentials.\n');
    const result = await host.run('start.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('n8n credentials: import failed (exit 1): An error occurred while importing credentials.');
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('credentials: fixed ids, rendered from the environment at run time, identical on every start', async () => {
    const host = newHost();
    expect((await host.run('start.sh')).code).toBe(0);
    // A second start on the same host (e.g. geusemaker.service after the bootstrap) keeps the fence.
    const holder = host.fenceHolderPid();
    const second = await host.run('start.sh');
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`fence: already held by this host (holder pid ${holder})`);
    expect(host.fenceHolderPid()).toBe(holder);

    const first = JSON.parse(host.readState('credentials.1.json'));
    const again = JSON.parse(host.readState('credentials.2.json'));
    expect(again).toEqual(first);
    expect(first).toEqual([
      { id: 'gmOllamaLocal001', name: 'Ollama (GeuseMaker)', type: 'ollamaApi', data: { baseUrl: 'http://ollama:11434' } },
      {
        id: 'gmQdrantLocal001',
        name: 'Qdrant (GeuseMaker)',
        type: 'qdrantApi',
        data: { qdrantUrl: 'http://qdrant:6333', apiKey: SECRETS.QDRANT_API_KEY },
      },
      { id: 'gmCrawl4aiLocal1', name: 'Crawl4AI (GeuseMaker)', type: 'httpBearerAuth', data: { token: SECRETS.CRAWL4AI_API_TOKEN } },
    ]);
    const importCall = host.dockerCalls().find((c) => c.includes('import:credentials'))!;
    expect(importCall).toContain('exec -T n8n sh -c');
    // The template in the repo holds placeholders only.
    const template = fs.readFileSync(path.join(host.env().GM_RUNTIME_DIR, 'n8n', 'credentials.json'), 'utf8');
    expect(template).toContain('{{QDRANT_API_KEY}}');
    for (const value of Object.values(SECRETS)) expect(template).not.toContain(value);
  });

  test('refuses to start without a secret (exit 2, the missing name, never a value)', async () => {
    const host = newHost();
    fs.writeFileSync(host.envFile, `POSTGRES_PASSWORD=${SECRETS.POSTGRES_PASSWORD}\n`, { mode: 0o600 });
    const result = await host.run('start.sh');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing secret(s) N8N_ENCRYPTION_KEY N8N_USER_MANAGEMENT_JWT_SECRET QDRANT_API_KEY CRAWL4AI_API_TOKEN');
    expect(result.stderr).not.toContain(SECRETS.POSTGRES_PASSWORD);
    expect(host.dockerCalls()).toEqual([]);
  });

  test('refuses to start when the EFS path is not a mount point (exit 2)', async () => {
    const host = newHost();
    host.exitCode('mountpoint', 1);
    const result = await host.run('start.sh');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${fleet.efs.dir} is not a mount point`);
    expect(host.composeSubcommands()).not.toContain('up');
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('rejects a bad setting with one clear line (exit 2)', async () => {
    const host = newHost('a', { GM_TIER: 'huge' });
    const result = await host.run('start.sh');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("setting GM_TIER must be dev, automation or gpu (got 'huge')");
  });
});

describe('Qdrant restore on a fresh host', () => {
  function seedSnapshots(names: string[]): void {
    fs.mkdirSync(fleet.efs.snapshotDir, { recursive: true });
    for (const name of names) fs.writeFileSync(path.join(fleet.efs.snapshotDir, name), `snapshot ${name}`);
  }

  test('empty local storage: the newest EFS snapshot is restored before the stack starts', async () => {
    seedSnapshots(['qdrant-20250101T000000Z.snapshot', 'qdrant-20250301T120000Z.snapshot', 'qdrant-20250201T000000Z.snapshot']);
    const host = newHost();
    host.answer('inspect', 'running starting\n', 1);

    const result = await host.run('start.sh');

    expect(result.code).toBe(0);
    const run = host.dockerCalls().find((c) => / run /.test(c))!;
    expect(run).toContain(`--volume ${fleet.efs.snapshotDir}/qdrant-20250301T120000Z.snapshot:/qdrant/restore/full.snapshot:ro`);
    expect(run).toMatch(/--no-deps --name geusemaker-qdrant-restore .* qdrant \.\/entrypoint\.sh --storage-snapshot \/qdrant\/restore\/full\.snapshot$/);
    const subs = host.composeSubcommands();
    expect(subs.indexOf('run')).toBeLessThan(subs.indexOf('up'));
    // All images are pulled together first: the restore does not pull Qdrant's alone.
    expect(subs.indexOf('pull')).toBeLessThan(subs.indexOf('run'));
    // The one-shot restore container is stopped and removed once Qdrant answered ready.
    const calls = host.dockerCalls();
    expect(calls).toContain('docker stop -t 30 geusemaker-qdrant-restore');
    expect(calls.lastIndexOf('docker rm -f geusemaker-qdrant-restore')).toBeLessThan(calls.findIndex((c) => / up /.test(c)));
    expect(result.stderr).toContain('restoring the newest snapshot');
    expect(result.stderr).toContain('Qdrant restored from');
  });

  test('local storage present: no restore', async () => {
    seedSnapshots(['qdrant-20250101T000000Z.snapshot']);
    const host = newHost();
    fs.mkdirSync(path.join(host.qdrantDir, 'collections'), { recursive: true });
    const result = await host.run('start.sh');
    expect(result.code).toBe(0);
    expect(host.composeSubcommands()).not.toContain('run');
    expect(result.stderr).toContain('Qdrant local storage is not empty, no restore needed');
  });

  test('no snapshot on EFS: Qdrant starts empty', async () => {
    const host = newHost();
    const result = await host.run('start.sh');
    expect(result.code).toBe(0);
    expect(host.composeSubcommands()).not.toContain('run');
    expect(result.stderr).toContain('there is no snapshot on EFS: Qdrant starts empty');
  });

  test('a restore that dies fails the start, empties the storage for the next try, releases the fence', async () => {
    seedSnapshots(['qdrant-20250101T000000Z.snapshot']);
    const host = newHost();
    host.answer('inspect', 'exited \n');
    host.answer('docker-logs', 'panic: snapshot is corrupted\n');
    const result = await host.run('start.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Qdrant restore from');
    expect(result.stderr).toContain('restore container is exited');
    expect(result.stderr).toContain('qdrant-restore: panic: snapshot is corrupted');
    expect(host.composeSubcommands()).not.toContain('up');
    expect(fs.readdirSync(host.qdrantDir)).toEqual([]);
    expect(fleet.efs.lockIsFree()).toBe(true);
  });
});

describe('stop.sh', () => {
  const SNAPSHOT_BODY = 'qdrant-full-snapshot-bytes';

  async function startedHost(): Promise<FakeHost> {
    const host = newHost();
    expect((await host.run('start.sh')).code).toBe(0);
    host.fakeQdrantSnapshots(SNAPSHOT_BODY);
    return host;
  }

  test('snapshots Qdrant to EFS, stops the stack gracefully, then releases the fence', async () => {
    const host = await startedHost();
    const holder = host.fenceHolderPid()!;

    const result = await host.run('stop.sh');

    expect(result.stderr).toContain('stop: done');
    expect(result.code).toBe(0);
    // The snapshot: created through the API, downloaded to EFS, deleted from Qdrant's local directory.
    const snapshots = fs.readdirSync(fleet.efs.snapshotDir);
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatch(/^qdrant-\d{8}T\d{6}Z\.snapshot$/);
    expect(fs.readFileSync(path.join(fleet.efs.snapshotDir, snapshots[0]), 'utf8')).toBe(SNAPSHOT_BODY);
    const requests = host.readState('curl-requests.log');
    expect(requests).toContain('qdrant-create http://127.0.0.1:6333/snapshots?wait=false');
    expect(requests).toContain('qdrant-download http://127.0.0.1:6333/snapshots/full-snapshot-2025-03-01-12-00-01.snapshot');
    expect(requests).toContain('qdrant-delete http://127.0.0.1:6333/snapshots/full-snapshot-2025-03-01-12-00-01.snapshot');
    expect(host.localSnapshotFiles()).toEqual([]);
    // The API key goes through curl's stdin config, never its argv.
    // Escaped as curl's config syntax wants it: the key holds a `"` and a `\\`, which must reach Qdrant unchanged.
    const configValue = SECRETS.QDRANT_API_KEY.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    expect(host.readState('curl-config.log')).toContain(`header = "api-key: ${configValue}"`);
    expect(host.calls().join('\n')).not.toContain(SECRETS.QDRANT_API_KEY);
    // The writers stop first, n8n then PostgreSQL, then the snapshot (Qdrant must be running), then a graceful
    // stop of the rest with a timeout, then the fence.
    const calls = host.calls();
    const n8n = calls.findIndex((c) => /^docker compose .* stop --timeout 30 n8n$/.test(c));
    const writers = calls.findIndex((c) => /^docker compose .* stop --timeout 30 postgres$/.test(c));
    const firstCreate = calls.findIndex((c) => c.includes('/snapshots?wait=false'));
    expect(n8n).toBeGreaterThan(-1);
    expect(writers).toBeGreaterThan(n8n);
    expect(firstCreate).toBeGreaterThan(writers);
    const lastCreate = calls.map((c, i) => (c.includes('/snapshots?wait=false') ? i : -1)).filter((i) => i >= 0).pop()!;
    const stop = calls.findIndex((c) => /^docker compose .* stop --timeout 30$/.test(c));
    expect(stop).toBeGreaterThan(lastCreate);
    expect(result.stderr.indexOf('stop: every container of the stack is stopped')).toBeLessThan(result.stderr.indexOf('fence: released'));
    expect(host.fenceHolderPid()).toBeUndefined();
    expect(fleet.efs.lockIsFree()).toBe(true);
    expect(fs.existsSync(path.join(fleet.efs.dir, '.geusemaker.lock.owner'))).toBe(false);
    expect(result.stderr).toContain(`fence: released ${fleet.efs.lockFile} (holder pid ${holder})`);
  });

  test('keeps only the newest GM_QDRANT_SNAPSHOT_KEEP snapshots', async () => {
    const host = await startedHost();
    fs.mkdirSync(fleet.efs.snapshotDir, { recursive: true });
    const old = ['qdrant-20200101T000000Z.snapshot', 'qdrant-20200102T000000Z.snapshot', 'qdrant-20200103T000000Z.snapshot'];
    for (const name of old) fs.writeFileSync(path.join(fleet.efs.snapshotDir, name), 'old');
    const result = await host.run('stop.sh', { GM_QDRANT_SNAPSHOT_KEEP: '2' });
    expect(result.code).toBe(0);
    const left = fs.readdirSync(fleet.efs.snapshotDir).sort();
    expect(left).toHaveLength(2);
    expect(left[0]).toBe('qdrant-20200103T000000Z.snapshot');
    expect(left[1]).toMatch(/^qdrant-2\d{3}[01]\d{3}T\d{6}Z\.snapshot$/);
    expect(left[1] > left[0]).toBe(true);
  });

  test('a failed snapshot is reported (exit 1) but the stack is still stopped and the fence released', async () => {
    const host = await startedHost();
    host.curl('qdrant-create', 500, '{"status":{"error":"disk full"}}');
    const result = await host.run('stop.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('qdrant snapshot: POST /snapshots failed');
    expect(host.composeSubcommands()).toContain('stop');
    expect(fleet.efs.lockIsFree()).toBe(true);
    expect(fs.existsSync(fleet.efs.snapshotDir) ? fs.readdirSync(fleet.efs.snapshotDir).filter((f) => !f.startsWith('.')) : []).toEqual([]);
  });

  test('a truncated download is discarded', async () => {
    const host = await startedHost();
    host.curl('qdrant-download', 200, SNAPSHOT_BODY.slice(0, 5));
    const result = await host.run('stop.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`downloaded 5 bytes, Qdrant announced ${SNAPSHOT_BODY.length}`);
    expect(fs.readdirSync(fleet.efs.snapshotDir)).toEqual([]);
    expect(host.localSnapshotFiles()).toEqual([]);
  });

  test('kills containers still running after the stop, reports it (exit 1) and releases the fence', async () => {
    const host = await startedHost();
    host.answer('docker-ps', '3f2a1b\n');
    const result = await host.run('stop.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stop: containers still running, killing them: 3f2a1b');
    expect(host.dockerCalls()).toContain('docker kill 3f2a1b');
    expect(result.stderr.indexOf('killing them')).toBeLessThan(result.stderr.indexOf('fence: released'));
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('on a host that never started: nothing to snapshot, nothing to release, exit 0', async () => {
    const host = newHost();
    const result = await host.run('stop.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('this host does not hold the fence: no Qdrant snapshot to EFS');
    expect(result.stderr).toContain('fence: not held by this host, nothing to release');
    expect(host.calls().filter((c) => c.startsWith('curl '))).toEqual([]);
  });
});
