/**
 * n8n is never reachable beyond the host before its owner exists: start.sh publishes it on 127.0.0.1, and
 * expose-n8n.sh (or start.sh on a later boot) moves it to GM_N8N_BIND only once GET /rest/settings says
 * "showSetupOnFirstLoad":false. The curl stub answers with the shapes a real n8n 2.36.9 gave
 * (shared/reference/n8n-2.36.9-observed.md).
 */
import { FakeFleet, FakeHost, psTable } from './helpers/fake-host';

const fleet = new FakeFleet();

/** GET /rest/settings of a real n8n 2.36.9 (trimmed to the fields it had around the one that matters). */
function settings(showSetupOnFirstLoad: boolean): string {
  return JSON.stringify({
    data: {
      settingsMode: 'public',
      defaultLocale: 'en',
      userManagement: { authenticationMethod: 'email', showSetupOnFirstLoad, smtpSetup: false, passwordMinLength: 8 },
      authCookie: { secure: true },
    },
  });
}

const exposedHost = (settingsOverride: Record<string, string> = {}): FakeHost =>
  fleet.host('a', { GM_N8N_BIND: '0.0.0.0', ...settingsOverride });

/** The GM_N8N_BIND compose saw on the n-th `docker compose up`. */
function publishedOnUp(host: FakeHost, n: number): string | undefined {
  return /^GM_N8N_BIND=(.*)$/m.exec(host.readState(`up.env.${n}`))?.[1];
}

const ups = (host: FakeHost) => host.dockerCalls().filter((c) => / up /.test(c));

describe('start.sh publishes n8n on 127.0.0.1 first', () => {
  test('a fresh n8n without owner stays on 127.0.0.1 although GM_N8N_BIND is 0.0.0.0', async () => {
    const host = exposedHost();
    host.answer('ps', psTable({ n8n: 'absent' }), 1);
    host.curl('n8n-settings', 200, settings(true));

    const result = await host.run('start.sh');

    expect(result.code).toBe(0);
    expect(ups(host)).toHaveLength(1);
    expect(publishedOnUp(host, 1)).toBe('127.0.0.1');
    expect(result.stderr).toContain('n8n has no owner yet: it stays on 127.0.0.1 until the owner is set up');
    expect(result.stderr).not.toMatch(/ ERROR /);
  });

  test('n8n still starting up (its text answer, not JSON) is no owner either: loopback', async () => {
    const host = exposedHost();
    host.answer('ps', psTable({ n8n: 'absent' }), 1);
    host.curl('n8n-settings', 200, 'n8n is starting up. Please wait');
    expect((await host.run('start.sh')).code).toBe(0);
    expect(ups(host).map((_, i) => publishedOnUp(host, i + 1))).toEqual(['127.0.0.1']);
  });

  test('a later boot with an owner: up on 127.0.0.1, then only n8n is recreated on GM_N8N_BIND and waited for', async () => {
    const host = exposedHost();
    host.answer('ps', psTable({ n8n: 'absent' }), 1);
    host.curl('n8n-settings', 200, settings(false));
    host.answer('compose-port', '127.0.0.1:5678\n');
    host.curl('n8n-readiness', 503, '{"status":"error"}', 1);
    host.curl('n8n-readiness', 200, '{"status":"ok"}', 2);

    const result = await host.run('start.sh');

    expect(result.code).toBe(0);
    expect(ups(host)).toHaveLength(2);
    expect(publishedOnUp(host, 1)).toBe('127.0.0.1');
    expect(publishedOnUp(host, 2)).toBe('0.0.0.0');
    expect(ups(host)[1]).toMatch(/ up --detach --no-deps n8n$/);
    expect(result.stderr).toContain('expose n8n: n8n is published on 0.0.0.0:5678');
    // Readiness again after the recreation: one 503, one wait, then 200.
    expect(host.readState('curl-requests.log').match(/^n8n-readiness /gm)).toHaveLength(2);
  });

  test('start.sh run again on an exposed stack keeps n8n where it is (no recreation)', async () => {
    const host = exposedHost();
    host.curl('n8n-settings', 200, settings(false));
    host.answer('compose-port', '0.0.0.0:5678\n');

    const result = await host.run('start.sh');

    expect(result.code).toBe(0);
    expect(ups(host)).toHaveLength(1);
    expect(publishedOnUp(host, 1)).toBe('0.0.0.0');
    expect(result.stderr).toContain('expose n8n: already published on 0.0.0.0:5678');
  });
});

describe('expose-n8n.sh', () => {
  async function startedHost(settingsOverride: Record<string, string> = {}): Promise<FakeHost> {
    const host = exposedHost(settingsOverride);
    host.answer('ps', psTable({ n8n: 'absent' }), 1);
    host.curl('n8n-settings', 200, settings(true));
    expect((await host.run('start.sh')).code).toBe(0);
    return host;
  }

  test('without an owner: exit 1 with one line, n8n stays on 127.0.0.1', async () => {
    const host = await startedHost();
    const upsBefore = ups(host).length;

    const result = await host.run('expose-n8n.sh');

    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((l) => / ERROR /.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("n8n's owner does not exist yet (http://127.0.0.1:5678/rest/settings: unclaimed); n8n stays on 127.0.0.1");
    expect(ups(host)).toHaveLength(upsBefore);
  });

  test('with the owner: n8n alone is republished on GM_N8N_BIND, then ready again', async () => {
    const host = await startedHost();
    host.curl('n8n-settings', 200, settings(false));
    host.answer('compose-port', '127.0.0.1:5678\n');
    host.curl('n8n-readiness', 200, '{"status":"ok"}');

    const result = await host.run('expose-n8n.sh');

    expect(result.code).toBe(0);
    const last = ups(host).length;
    expect(publishedOnUp(host, last)).toBe('0.0.0.0');
    expect(ups(host)[last - 1]).toMatch(/ up --detach --no-deps n8n$/);
    expect(result.stderr).toContain('n8n is ready on http://127.0.0.1:5678');
  });

  test('n8n not ready again after the recreation: exit 1', async () => {
    const host = await startedHost();
    host.curl('n8n-settings', 200, settings(false));
    host.answer('compose-port', '127.0.0.1:5678\n');
    host.curl('n8n-readiness', 503, '{"status":"error"}');
    const result = await host.run('expose-n8n.sh', { GM_HEALTH_ATTEMPTS: '3' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('n8n not ready on http://127.0.0.1:5678/healthz/readiness after 3 attempts');
  });

  test('GM_N8N_BIND 127.0.0.1: nothing to do, exit 0, no docker call', async () => {
    const host = fleet.host('a');
    const result = await host.run('expose-n8n.sh');
    expect(result.code).toBe(0);
    expect(host.dockerCalls()).toEqual([]);
  });

  test('a host that does not run the stack (no fence) exposes nothing: exit 1', async () => {
    const host = exposedHost();
    host.curl('n8n-settings', 200, settings(false));
    const result = await host.run('expose-n8n.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('expose n8n: this host does not hold the fence');
    expect(ups(host)).toEqual([]);
  });

  test('with GM_N8N_TLS=self-signed the owner check uses https and trusts only n8n\'s certificate', async () => {
    const host = await startedHost({ GM_N8N_TLS: 'self-signed' });
    host.curl('n8n-settings', 200, settings(true));
    await host.run('expose-n8n.sh');
    const check = host.calls().filter((c) => c.endsWith('/rest/settings')).pop()!;
    expect(check).toContain(`--cacert ${fleet.efs.dir}/tls/n8n.crt`);
    expect(check).toMatch(/ https:\/\/127\.0\.0\.1:5678\/rest\/settings$/);
  });
});
