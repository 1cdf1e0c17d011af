/**
 * The scale tier's AI host (GM_ROLE=ai-services, lib/tiers/scale-stack.ts): the host scripts run for real under bash
 * with stubs. Only Ollama, Qdrant and Crawl4AI run, published on GM_AI_SERVICES_BIND; the host registers its private
 * IPv4 as an A record in the private hosted zone at every start; the pre-wired credentials go into the scale tier's
 * database on RDS, pointing at that name; the fence, the clean stop, the watchdog and the backups keep working.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, RUNTIME_DIR, SECRETS } from './helpers/fake-host';

const fleet = new FakeFleet();
const NAME = 'ai.my-stack.geusemaker.internal';
const ZONE = 'Z0123456789ABCDEFGHIJ';
const PRIVATE_IP = '10.0.1.23';
const DB_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:GeuseScaleDataDatabaseSecret-AbCdEf';
const RDS_CA_URL = 'https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem';
/** What the truststore answers: PEM certificates (a test certificate stands in for the RDS CAs). */
const RDS_CA_BUNDLE = fs.readFileSync(path.join(__dirname, 'fixtures', 'n8n-test.crt'), 'utf8');
const DB_HOST = 'geusescaledata-my-stack.abcdefghijkl.eu-west-1.rds.amazonaws.com';
/** The host settings scale-stack.ts gives the AI host (plus the tier and region every host gets). */
const AI_SETTINGS: Record<string, string> = {
  GM_TIER: 'scale',
  GM_ROLE: 'ai-services',
  GM_AI_SERVICES_BIND: '0.0.0.0',
  GM_AI_HOST_NAME: NAME,
  GM_AI_HOST_ZONE_ID: ZONE,
  GM_SCALE_DATABASE_HOST: DB_HOST,
  GM_SCALE_DATABASE_PORT: '5432',
  GM_SCALE_DATABASE_SECRET: DB_SECRET,
  GM_REGION: 'eu-west-1',
  GM_RDS_CA_URL: RDS_CA_URL,
};
/** RDS's generated secret (the shape aws-rds DatabaseSecret stores), with a quote in the password. */
const DB_PASSWORD = 'rds"Pass\\word-7';
const RDS_SECRET = JSON.stringify({ username: 'n8nadmin', password: DB_PASSWORD, engine: 'postgres', host: DB_HOST, port: 5432, dbname: 'n8n' });
const AI_PS = 'ollama running healthy\nqdrant running healthy\ncrawl4ai running healthy\n';

/** An AI host whose IMDS, Route 53, Secrets Manager and docker answer like the real ones when all is well. */
function aiHost(settings: Record<string, string> = {}): FakeHost {
  const host = fleet.host('a', { ...AI_SETTINGS, ...settings });
  host.answer('ps', AI_PS);
  host.curl('imds-token', 200, 'TOKEN-1');
  host.curl('local-ipv4', 200, PRIVATE_IP);
  host.answer('aws-route53', '/change/C2682N5HXP0BZ4\n');
  host.answer('aws-secretsmanager', `${RDS_SECRET}\n`);
  host.curl('rds-ca', 200, RDS_CA_BUNDLE);
  return host;
}

const routeCalls = (host: FakeHost) => host.calls().filter((c) => c.startsWith('aws route53 '));
/** The --change-batch JSON of the n-th Route 53 call. */
function changeBatch(call: string): unknown {
  const m = / --change-batch (\{.*\}) --output /.exec(call);
  if (!m) throw new Error(`no --change-batch in ${call}`);
  return JSON.parse(m[1]);
}

describe('start.sh on the AI host (GM_ROLE=ai-services)', () => {
  test('runs only Ollama, Qdrant and Crawl4AI, published on 0.0.0.0, and never n8n or PostgreSQL', async () => {
    const host = aiHost();
    const result = await host.run('start.sh');
    expect(result.stderr).toContain('start: done, every service is healthy');
    expect(result.code).toBe(0);
    const compose = host.dockerCalls().filter((c) => c.startsWith('docker compose '));
    expect(compose.find((c) => / pull /.test(c))).toMatch(/ pull --policy missing --quiet ollama qdrant crawl4ai$/);
    expect(compose.find((c) => / up /.test(c))).toMatch(/ up --detach --remove-orphans ollama qdrant crawl4ai$/);
    expect(compose.join('\n')).not.toMatch(/\b(n8n|postgres)\b(?!\/)/);
    // compose.yml reads the address from the environment of docker compose up.
    expect(host.readState('up.env')).toContain('GM_AI_SERVICES_BIND=0.0.0.0\n');
    expect(result.stderr).toContain('all services healthy: ollama qdrant crawl4ai');
    // Neither n8n's nor PostgreSQL's EFS directory, nor n8n's certificate directory, is made or claimed.
    for (const dir of ['n8n', 'postgres', 'tls']) expect(fs.existsSync(path.join(fleet.efs.dir, dir))).toBe(false);
    expect(host.calls().filter((c) => c.startsWith('chown ')).join('\n')).not.toMatch(/ (1000|70):/);
    // The single-writer fence is held as on every host.
    expect(host.fenceHolderPid()).toBeDefined();
    expect(fleet.efs.lockIsFree()).toBe(false);
  });

  test('upserts its private IPv4 (IMDSv2 local-ipv4) as the A record GM_AI_HOST_NAME, TTL 30 s, after the health wait', async () => {
    const host = aiHost();
    const result = await host.run('start.sh');
    expect(result.code).toBe(0);
    const calls = routeCalls(host);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(new RegExp(`^aws route53 change-resource-record-sets --region eu-west-1 --hosted-zone-id ${ZONE} --change-batch `));
    expect(changeBatch(calls[0])).toEqual({
      Comment: 'GeuseMaker my-stack: the AI host i-0a',
      Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: NAME, Type: 'A', TTL: 30, ResourceRecords: [{ Value: PRIVATE_IP }] } }],
    });
    // IMDSv2: a session token first, then the address with it.
    const imds = host.calls().filter((c) => c.includes('169.254.169.254'));
    const token = imds.findIndex((c) => /-X PUT .*\/latest\/api\/token$/.test(c));
    const address = imds.findIndex((c) => c.endsWith('/latest/meta-data/local-ipv4'));
    expect(token).toBeGreaterThanOrEqual(0);
    expect(address).toBeGreaterThan(token);
    expect(imds[address]).toContain('X-aws-ec2-metadata-token: TOKEN-1');
    // Registered once every service is healthy (the last ps), before the credentials.
    const calls2 = host.calls();
    const lastPs = calls2.map((c, i) => (/ ps /.test(c) ? i : -1)).reduce((a, b) => Math.max(a, b));
    const upsert = calls2.findIndex((c) => c.startsWith('aws route53 '));
    const importRun = calls2.findIndex((c) => c.startsWith('docker run ') && c.includes('import:credentials'));
    expect(upsert).toBeGreaterThan(lastPs);
    expect(importRun).toBeGreaterThan(upsert);
    expect(result.stderr).toContain(`dns: ${NAME} -> ${PRIVATE_IP} (A, TTL 30 s) upserted in the hosted zone ${ZONE} (change /change/C2682N5HXP0BZ4)`);
  });

  test('a refused UPSERT fails the start in one line with the AWS error; the stack stops and the fence is let go', async () => {
    const host = aiHost();
    host.answer('aws-route53', `\nAn error occurred (AccessDenied) when calling the ChangeResourceRecordSets operation: User: arn:aws:sts::123456789012:assumed-role/GeuseScale-my-stack-HostRole/i-0a is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/${ZONE} because no identity-based policy allows the route53:ChangeResourceRecordSets action\n`);
    host.exitCode('aws-route53', 254);
    const result = await host.run('start.sh');
    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((l) => / ERROR dns: /.test(l));
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`ERROR dns: registering ${NAME.replace(/\./g, '\\.')} -> ${PRIVATE_IP} in the hosted zone ${ZONE} failed \\(aws exit 254\\): An error occurred \\(AccessDenied\\) when calling the ChangeResourceRecordSets operation: .* action$`)),
    ]);
    expect(host.calls().some((c) => c.includes('import:credentials'))).toBe(false);
    expect(host.composeSubcommands()).toContain('stop');
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('without a private IPv4 in IMDS nothing is registered and the start fails naming it', async () => {
    const host = aiHost();
    host.curl('local-ipv4', 404, '');
    const result = await host.run('start.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`dns: cannot read this host's private IPv4 address from IMDS (meta-data/local-ipv4); ${NAME} is not registered`);
    expect(routeCalls(host)).toEqual([]);
  });

  test('imports the pre-wired credentials into the scale database on RDS, pointing at the AI host, secrets never on argv', async () => {
    const host = aiHost();
    expect((await host.run('start.sh')).code).toBe(0);
    expect(host.calls()).toContain(`aws secretsmanager get-secret-value --region eu-west-1 --secret-id ${DB_SECRET} --query SecretString --output text`);
    const run = host.dockerCalls().find((c) => c.startsWith('docker run '))!;
    expect(run).toMatch(/^docker run --rm -i --network host --entrypoint sh .* n8nio\/n8n:2\.36\.9 -c .*n8n import:credentials/);
    expect(host.composeSubcommands()).not.toContain('exec');
    expect(JSON.parse(host.readState('credentials.1.json'))).toEqual([
      { id: 'gmOllamaLocal001', name: 'Ollama (GeuseMaker)', type: 'ollamaApi', data: { baseUrl: `http://${NAME}:11434` } },
      { id: 'gmQdrantLocal001', name: 'Qdrant (GeuseMaker)', type: 'qdrantApi', data: { qdrantUrl: `http://${NAME}:6333`, apiKey: SECRETS.QDRANT_API_KEY } },
      { id: 'gmCrawl4aiLocal1', name: 'Crawl4AI (GeuseMaker)', type: 'httpBearerAuth', data: { token: SECRETS.CRAWL4AI_API_TOKEN } },
    ]);
    // The container's settings, as the n8n tasks have them (scale-stack.ts sharedEnvironment), from the environment.
    expect(host.readState('run.env.1').split('\n').filter(Boolean)).toEqual([
      `DB_POSTGRESDB_DATABASE=n8n`,
      `DB_POSTGRESDB_HOST=${DB_HOST}`,
      `DB_POSTGRESDB_PASSWORD=${DB_PASSWORD}`,
      `DB_POSTGRESDB_PORT=5432`,
      `DB_POSTGRESDB_SSL_CA_FILE=/rds-ca/rds-ca-bundle.pem`,
      `DB_POSTGRESDB_SSL_ENABLED=true`,
      `DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=true`,
      `DB_POSTGRESDB_USER=n8nadmin`,
      `DB_TYPE=postgresdb`,
      `N8N_ENCRYPTION_KEY=${SECRETS.N8N_ENCRYPTION_KEY}`,
    ]);
    for (const value of [...Object.values(SECRETS), DB_PASSWORD]) expect(host.calls().join('\n')).not.toContain(value);
    // The database's certificate is verified with the region's RDS bundle, fetched over HTTPS and mounted read-only.
    expect(host.calls()).toContainEqual(expect.stringMatching(new RegExp(`^curl -fsS --max-time 15 --retry 2 -o \\S+/rds-ca-bundle\\.pem\\.tmp ${RDS_CA_URL.replace(/\./g, '\\.')}$`)));
    const mount = / -v (\S+):\/rds-ca\/rds-ca-bundle\.pem:ro /.exec(run);
    expect(mount).not.toBeNull();
    expect(fs.readFileSync(mount![1], 'utf8').trimEnd()).toBe(RDS_CA_BUNDLE.trimEnd());
    expect(fs.statSync(mount![1]).mode & 0o777).toBe(0o644);
  });

  test('no RDS certificate bundle, no import: one WARN line naming the URL, nothing sent to the database, the services stay up', async () => {
    const host = aiHost();
    host.curl('rds-ca', 404, '<Error><Code>NoSuchKey</Code></Error>');
    const result = await host.run('start.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(` WARN n8n credentials: cannot fetch the RDS certificate bundle ${RDS_CA_URL.replace(/\./g, '\\.')}: curl: \\(22\\) The requested URL returned error: 404; the AI services stay up`));
    expect(host.dockerCalls().some((c) => c.startsWith('docker run '))).toBe(false);
  });

  test('an import that fails (n8n migrating the database at the same time) is retried, then is one WARN line; the services stay up', async () => {
    const host = aiHost();
    host.answer('import', `QueryFailedError: relation "migrations" already exists (password ${DB_PASSWORD})\n`, 1);
    host.exitCode('import', 1, 1);
    const retried = await host.run('start.sh');
    expect(retried.code).toBe(0);
    expect(retried.stderr).toContain(`n8n credentials: import into ${DB_HOST}:5432/n8n failed (exit 1, attempt 1), retrying`);

    const failing = aiHost();
    failing.answer('import', 'Error: connect ETIMEDOUT\n');
    failing.exitCode('import', 1);
    const result = await failing.run('start.sh', { GM_IMPORT_ATTEMPTS: '2' });
    // RDS away (a maintenance window, a failover) does not take Ollama, Qdrant and Crawl4AI down.
    expect(result.code).toBe(0);
    expect(result.stderr.split('\n').filter((l) => / (WARN|ERROR) n8n credentials: import into the database /.test(l))).toEqual([
      expect.stringMatching(
        new RegExp(` WARN n8n credentials: import into the database ${DB_HOST.replace(/\./g, '\\.')}:5432/n8n failed 2 times \\(exit 1\\): Error: connect ETIMEDOUT; the AI services stay up, the next start.sh imports again$`),
      ),
    ]);
    expect(result.stderr).not.toMatch(/ ERROR /);
    expect(failing.composeSubcommands()).not.toContain('stop');
    expect(failing.fenceHolderPid()).toBeDefined();
    expect(retried.stderr + result.stderr).not.toContain(DB_PASSWORD);
    // The next start imports again.
    failing.answer('import', 'Successfully imported 3 credentials.\n');
    failing.exitCode('import', 0);
    const next = await failing.run('start.sh', { GM_IMPORT_ATTEMPTS: '2' });
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`n8n credentials: Ollama, Qdrant and Crawl4AI credentials are in the scale tier's database ${DB_HOST}:5432/n8n`);
  });

  test('GM_CREDENTIALS_REQUIRED=true (a caller that needs the credentials in place) keeps a failed import fatal', async () => {
    const host = aiHost();
    host.answer('import', 'Error: connect ETIMEDOUT\n');
    host.exitCode('import', 1);
    const result = await host.run('start.sh', { GM_IMPORT_ATTEMPTS: '1', GM_CREDENTIALS_REQUIRED: 'true' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ERROR n8n credentials: import into the database ${DB_HOST}:5432/n8n failed 1 times (exit 1): Error: connect ETIMEDOUT`);
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('a database secret that cannot be read is one WARN line; the start succeeds', async () => {
    const host = aiHost();
    host.answer('aws-secretsmanager', `\nAn error occurred (AccessDeniedException) when calling the GetSecretValue operation: not authorized\n`);
    host.exitCode('aws-secretsmanager', 254);
    const result = await host.run('start.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`WARN n8n credentials: cannot read the database secret ${DB_SECRET}: An error occurred (AccessDeniedException)`);
    expect(result.stderr).not.toMatch(/ ERROR /);
  });

  test('settings: the AI role belongs to the scale tier and needs a DNS name and a hosted zone id (exit 2)', async () => {
    for (const [settings, message] of [
      [{ GM_TIER: 'dev' }, "GM_ROLE=ai-services is the scale tier's AI host: GM_TIER must be scale (got 'dev')"],
      [{ GM_AI_HOST_NAME: '' }, "setting GM_AI_HOST_NAME must be a DNS name such as ai.my-stack.geusemaker.internal (got '')"],
      [{ GM_AI_HOST_ZONE_ID: 'zone one' }, "setting GM_AI_HOST_ZONE_ID must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (got 'zone one')"],
    ] as const) {
      const host = aiHost(settings);
      const result = await host.run('start.sh');
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(host.dockerCalls()).toEqual([]);
      host.cleanup();
      fs.rmSync(host.root, { recursive: true, force: true });
    }
  });
});

describe('the single-host path is unchanged', () => {
  test('every service, the AI services on 127.0.0.1, no DNS record, the credentials through the n8n container', async () => {
    const host = fleet.host('a');
    const result = await host.run('start.sh');
    expect(result.code).toBe(0);
    expect(host.dockerCalls().find((c) => / pull /.test(c))).toMatch(/ pull --policy missing --quiet$/);
    expect(host.dockerCalls().find((c) => / up /.test(c))).toMatch(/ up --detach --remove-orphans$/);
    expect(host.readState('up.env')).toContain('GM_AI_SERVICES_BIND=127.0.0.1\n');
    expect(host.calls().some((c) => c.startsWith('aws ') || c.startsWith('docker run '))).toBe(false);
    expect(host.calls().some((c) => c.includes('local-ipv4'))).toBe(false);
    expect(JSON.parse(host.readState('credentials.1.json'))[0].data).toEqual({ baseUrl: 'http://ollama:11434' });
  });

  test('a single host never publishes the AI services beyond loopback (exit 2)', async () => {
    const host = fleet.host('a', { GM_AI_SERVICES_BIND: '0.0.0.0' });
    const result = await host.run('start.sh');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("setting GM_AI_SERVICES_BIND must stay 127.0.0.1 unless GM_ROLE=ai-services (got '0.0.0.0')");
    expect(host.dockerCalls()).toEqual([]);
  });
});

describe('stop, watchdog and backups on the AI host', () => {
  test('a spot notice runs stop.sh: no n8n or PostgreSQL step; a Qdrant snapshot to EFS, then the fence is released', async () => {
    const host = aiHost();
    expect((await host.run('start.sh')).code).toBe(0);
    host.fakeQdrantSnapshots('ai-host-vectors');
    host.curl('lifecycle', 200, 'spot');
    host.curl('spot', 200, '{"action": "terminate", "time": "2025-03-01T12:02:00Z"}');
    const result = await host.run('spot-watcher.sh', { ...host.fakeClock(), GM_SPOT_MAX_POLLS: '3' });
    expect(result.stderr).toContain('spot watcher: stack stopped cleanly before the interruption');
    expect(result.code).toBe(0);
    expect(host.log('stop')).toContain('stop: done');
    const stops = host.dockerCalls().filter((c) => / stop /.test(c));
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatch(/ stop --timeout \d+$/);
    expect(fs.readdirSync(fleet.efs.snapshotDir).filter((f) => f.endsWith('.snapshot'))).toHaveLength(1);
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('watchdog.sh watches the three services only: a missing n8n or PostgreSQL is no failure', async () => {
    const host = aiHost();
    const env = { ...host.fakeClock(), GM_WATCHDOG_GRACE_SECONDS: '0' };
    for (let i = 0; i < 4; i++) expect((await host.run('watchdog.sh', env)).code).toBe(0);
    expect(host.dockerCalls().filter((c) => / restart /.test(c))).toEqual([]);
    // ...while a failing AI service is still acted upon.
    host.answer('ps', 'ollama running healthy\nqdrant running unhealthy\ncrawl4ai running healthy\n');
    for (let i = 0; i < 3; i++) await host.run('watchdog.sh', env);
    expect(host.dockerCalls().filter((c) => / restart /.test(c))).toEqual([expect.stringMatching(/ restart qdrant$/)]);
  });

  test('backup.sh writes a Qdrant set (snapshot, data versions, manifest) and no database dump; restore-backup.sh refuses', async () => {
    const host = aiHost();
    expect((await host.run('start.sh')).code).toBe(0);
    host.fakeQdrantSnapshots('ai-host-vectors');
    const result = await host.run('backup.sh');
    expect(result.code).toBe(0);
    const name = result.stdout.trim();
    expect(name).toMatch(/^\d{8}T\d{6}Z-vectors$/);
    const dir = path.join(fleet.efs.dir, 'backups', name);
    expect(fs.readdirSync(dir).sort()).toEqual(['data-version.env', 'manifest.json', 'qdrant.snapshot']);
    expect(fs.readFileSync(path.join(dir, 'qdrant.snapshot'), 'utf8')).toBe('ai-host-vectors');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(['qdrant.snapshot', 'data-version.env']);
    expect(host.dockerCalls().some((c) => / exec .*postgres/.test(c))).toBe(false);

    const restore = await host.run('restore-backup.sh', {}, [name]);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain("restore: this is the scale tier's AI host, which runs neither n8n nor PostgreSQL");
  });
});

describe('stop.sh on the AI host deletes its DNS record (else the private hosted zone cannot be deleted)', () => {
  const DELETE_BATCH = {
    Comment: 'GeuseMaker my-stack: the AI host i-0a stopped',
    Changes: [{ Action: 'DELETE', ResourceRecordSet: { Name: NAME, Type: 'A', TTL: 30, ResourceRecords: [{ Value: PRIVATE_IP }] } }],
  };

  async function started(): Promise<FakeHost> {
    const host = aiHost();
    expect((await host.run('start.sh')).code).toBe(0);
    host.fakeQdrantSnapshots('ai-host-vectors');
    return host;
  }

  test('DELETEs exactly the record it upserted (name, type, TTL, value), after the fence release', async () => {
    const host = await started();
    host.answer('aws-route53', '/change/C0DELETE1\n');
    const result = await host.run('stop.sh');
    expect(result.code).toBe(0);
    const calls = routeCalls(host);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatch(new RegExp(`^aws route53 change-resource-record-sets --region eu-west-1 --hosted-zone-id ${ZONE} --change-batch `));
    expect(changeBatch(calls[1])).toEqual(DELETE_BATCH);
    const lines = result.stderr.split('\n');
    const released = lines.findIndex((l) => l.includes('fence: released'));
    const deleted = lines.findIndex((l) => l.includes(`INFO dns: ${NAME} -> ${PRIVATE_IP} (A, TTL 30 s) deleted from the hosted zone ${ZONE} (change /change/C0DELETE1)`));
    expect(released).toBeGreaterThan(-1);
    expect(deleted).toBeGreaterThan(released);
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('a record a newer host re-pointed (InvalidChangeBatch) is left alone: an INFO line, a clean stop', async () => {
    const host = await started();
    host.answer('aws-route53', `\nAn error occurred (InvalidChangeBatch) when calling the ChangeResourceRecordSets operation: [Tried to delete resource record set [name='${NAME}.', type='A'] but the values provided do not match the current values]\n`);
    host.exitCode('aws-route53', 254);
    const result = await host.run('stop.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`INFO dns: ${NAME} no longer holds this host's address ${PRIVATE_IP} (A, TTL 30 s), a newer host's or none: left as it is (An error occurred (InvalidChangeBatch)`);
    expect(result.stderr).not.toMatch(/ (WARN|ERROR) /);
    expect(result.stderr).toContain('stop: done');
  });

  test('any other error is one WARN line and never fails the stop or keeps the fence', async () => {
    const host = await started();
    host.answer('aws-route53', `\nAn error occurred (AccessDenied) when calling the ChangeResourceRecordSets operation: User: arn:aws:sts::123456789012:assumed-role/GeuseScale-my-stack-HostRole/i-0a is not authorized to perform: route53:ChangeResourceRecordSets\n`);
    host.exitCode('aws-route53', 254);
    const result = await host.run('stop.sh');
    expect(result.code).toBe(0);
    expect(result.stderr.split('\n').filter((l) => / (WARN|ERROR) /.test(l))).toEqual([
      expect.stringContaining(`WARN dns: deleting ${NAME} -> ${PRIVATE_IP} from the hosted zone ${ZONE} failed (aws exit 254): An error occurred (AccessDenied) when calling the ChangeResourceRecordSets operation: `),
    ]);
    expect(fleet.efs.lockIsFree()).toBe(true);
  });

  test('a single host never touches Route 53 on its stop', async () => {
    const host = fleet.host('a', { GM_AI_HOST_NAME: NAME, GM_AI_HOST_ZONE_ID: ZONE });
    host.curl('imds-token', 200, 'TOKEN-1');
    host.curl('local-ipv4', 200, PRIVATE_IP);
    const result = await host.run('stop.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('stop: done');
    expect(host.calls().some((c) => c.startsWith('aws '))).toBe(false);
  });
});

describe('the AI host\'s vector sets never crowd out full sets', () => {
  const backups = () => path.join(fleet.efs.dir, 'backups');
  /** A set on EFS with a manifest listing `files` (a full set lists postgres.dump). */
  function fixtureSet(name: string, files: string[]): void {
    fs.mkdirSync(path.join(backups(), name), { recursive: true });
    const entries = files.map((f) => `{"name":"${f}","bytes":1,"sha256":"${'0'.repeat(64)}"}`).join(',');
    fs.writeFileSync(path.join(backups(), name, 'manifest.json'), `{"format":1,"name":"${name}","files":[${entries}]}\n`);
  }

  test('after more nights than GM_BACKUP_KEEP the full sets are untouched; restore-backup.sh latest picks the newest full set', async () => {
    const FULL = ['postgres.dump', 'qdrant.snapshot', 'n8n.tar.gz', 'data-version.env'];
    const VECTORS = ['qdrant.snapshot', 'data-version.env'];
    fixtureSet('20200101T000000Z', FULL);
    fixtureSet('20200102T000000Z', FULL);
    fixtureSet('20200103T000000Z-vectors', VECTORS);
    fixtureSet('20200104T000000Z-vectors', VECTORS);
    // A vector set an older runtime wrote without the suffix: told apart by its manifest.
    fixtureSet('20200105T000000Z', VECTORS);
    const host = aiHost({ GM_BACKUP_KEEP: '2' });
    expect((await host.run('start.sh')).code).toBe(0);
    host.fakeQdrantSnapshots('ai-host-vectors');
    const result = await host.run('backup.sh');
    expect(result.code).toBe(0);
    const name = result.stdout.trim();
    expect(name).toMatch(/^\d{8}T\d{6}Z-vectors$/);
    expect(fs.readdirSync(backups()).sort()).toEqual(['20200101T000000Z', '20200102T000000Z', '20200105T000000Z', name]);

    // On a single host on the same file system, "latest" is the newest set with n8n's database, not the newest set.
    // (Its fixture files are absent: the check against the manifest stops the restore before anything is touched.)
    const single = fleet.host('b');
    const restore = await single.run('restore-backup.sh', {}, ['latest']);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain('restore: backup set 20200102T000000Z is damaged: postgres.dump is missing; nothing was touched');
  });
});

describe('upgrades on the AI host (no database here: Qdrant only)', () => {
  const CURRENT = fs.readFileSync(path.join(RUNTIME_DIR, 'versions.env'), 'utf8');
  const CURRENT_VERSION = /^GM_RUNTIME_VERSION=(.+)$/m.exec(CURRENT)![1];
  const OLDER = CURRENT.replace(/^GM_RUNTIME_VERSION=.*$/m, 'GM_RUNTIME_VERSION=2026.10.0');
  const record = () => path.join(fleet.efs.dir, '.geusemaker-data-version');
  const backups = () => path.join(fleet.efs.dir, 'backups');

  test('a newer runtime keeps a pre-upgrade set of the newest Qdrant snapshot; an older one restores it (a rollback)', async () => {
    fs.writeFileSync(record(), OLDER);
    fs.mkdirSync(fleet.efs.snapshotDir, { recursive: true });
    fs.writeFileSync(path.join(fleet.efs.snapshotDir, 'qdrant-20261101T000000Z.snapshot'), 'vectors of 2026.10.0');
    const host = aiHost();
    const upgraded = await host.run('start.sh');
    expect(upgraded.code).toBe(0);
    const [set] = fs.readdirSync(backups());
    expect(set).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-pre-upgrade-2026\\.10\\.0-${CURRENT_VERSION.replace(/\./g, '\\.')}$`));
    expect(fs.readdirSync(path.join(backups(), set)).sort()).toEqual(['data-version.env', 'manifest.json', 'qdrant.snapshot']);
    expect(fs.readFileSync(path.join(backups(), set, 'qdrant.snapshot'), 'utf8')).toBe('vectors of 2026.10.0');
    expect(fs.readFileSync(record(), 'utf8')).toBe(CURRENT);
    expect(host.dockerCalls().join('\n')).not.toMatch(/postgres/);
    host.cleanup();

    // The rollback: the older runtime on the data the newer one recorded places the set's snapshot for start.sh.
    const older = path.join(fleet.efs.root, 'runtime-older');
    fs.cpSync(RUNTIME_DIR, older, { recursive: true });
    fs.writeFileSync(path.join(older, 'versions.env'), OLDER);
    const back = fleet.host('b', AI_SETTINGS);
    back.answer('ps', AI_PS);
    back.curl('imds-token', 200, 'TOKEN-1');
    back.curl('local-ipv4', 200, PRIVATE_IP);
    back.answer('aws-route53', '/change/C1\n');
    back.answer('aws-secretsmanager', `${RDS_SECRET}\n`);
    const rolledBack = await back.run('start.sh', { GM_RUNTIME_DIR: older });
    expect(rolledBack.stderr).toContain(`upgrade: rolling back from runtime ${CURRENT_VERSION} to 2026.10.0: restoring the pre-upgrade set ${set}`);
    expect(rolledBack.code).toBe(0);
    expect(fs.readFileSync(record(), 'utf8')).toBe(OLDER);
    // start.sh restored Qdrant from the placed snapshot (a one-shot Qdrant with --storage-snapshot).
    expect(back.dockerCalls().some((c) => / run .*qdrant \.\/entrypoint\.sh --storage-snapshot /.test(c))).toBe(true);
    expect(back.dockerCalls().join('\n')).not.toMatch(/postgres/);
  });
});
