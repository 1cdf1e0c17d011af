/**
 * GM_N8N_TLS=self-signed (dev tier with allowedCidrs): start.sh makes n8n's certificate with openssl on the
 * host (stub), key readable by n8n's uid only, and n8n serves HTTPS on the public IP's URL with its
 * session cookie Secure.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost } from './helpers/fake-host';

const fleet = new FakeFleet();

function tlsHost(settings: Record<string, string> = {}): FakeHost {
  const host = fleet.host('a', { GM_N8N_TLS: 'self-signed', GM_N8N_BIND: '0.0.0.0', ...settings });
  host.curl('imds-token', 200, 'TOKEN-1');
  host.curl('public-ipv4', 200, '203.0.113.7');
  return host;
}

const certRequests = (host: FakeHost) => host.calls().filter((c) => c.startsWith('openssl req '));

test('makes a certificate for 127.0.0.1, localhost and the public IP; the key is 600 and owned by n8n (uid 1000)', async () => {
  const host = tlsHost();
  expect((await host.run('start.sh')).code).toBe(0);

  const [request] = certRequests(host);
  expect(certRequests(host)).toHaveLength(1);
  expect(request).toContain('-addext subjectAltName=IP:127.0.0.1,DNS:localhost,IP:203.0.113.7');
  expect(request).toContain('-nodes');
  const dir = path.join(fleet.efs.dir, 'tls');
  expect(fs.statSync(path.join(dir, 'n8n.key')).mode & 0o777).toBe(0o600);
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  const chowns = host.calls().filter((c) => c.startsWith('chown '));
  expect(chowns).toContain(`chown 1000:1000 ${dir}/n8n.key.tmp ${dir}/n8n.crt.tmp`);
  expect(chowns).toContain(`chown 1000:1000 ${dir}`);
});

test('n8n gets https, its key and certificate in the container, and the public IP URL; the cookie stays Secure', async () => {
  const host = tlsHost();
  expect((await host.run('start.sh')).code).toBe(0);
  const upEnv = host.readState('up.env');
  expect(upEnv).toContain('GM_N8N_PROTOCOL=https\n');
  expect(upEnv).toContain('GM_N8N_SSL_KEY=/home/node/tls/n8n.key\n');
  expect(upEnv).toContain('GM_N8N_SSL_CERT=/home/node/tls/n8n.crt\n');
  expect(upEnv).toContain('GM_N8N_PUBLIC_URL=https://203.0.113.7:5678/\n');
  // IMDSv2: the public address is read with a session token.
  const ipRead = host.calls().find((c) => c.endsWith('/latest/meta-data/public-ipv4'))!;
  expect(ipRead).toContain('-H X-aws-ec2-metadata-token: TOKEN-1');
});

test('an explicit GM_N8N_PUBLIC_URL wins over the public IP', async () => {
  const host = tlsHost({ GM_N8N_PUBLIC_URL: 'https://n8n.example.com:5678/' });
  expect((await host.run('start.sh')).code).toBe(0);
  expect(host.readState('up.env')).toContain('GM_N8N_PUBLIC_URL=https://n8n.example.com:5678/\n');
});

test('a valid certificate for the same addresses is kept on the next start', async () => {
  const host = tlsHost();
  expect((await host.run('start.sh')).code).toBe(0);
  expect((await host.run('start.sh')).code).toBe(0);
  expect(certRequests(host)).toHaveLength(1);
});

test('a certificate about to expire is replaced', async () => {
  const host = tlsHost();
  expect((await host.run('start.sh')).code).toBe(0);
  host.exitCode('openssl-checkend', 1);
  expect((await host.run('start.sh')).code).toBe(0);
  expect(certRequests(host)).toHaveLength(2);
});

test('GM_N8N_TLS off (default): plain http, no certificate made, the directory exists empty for the mount', async () => {
  const host = fleet.host('a');
  expect((await host.run('start.sh')).code).toBe(0);
  expect(certRequests(host)).toEqual([]);
  expect(host.readState('up.env')).toContain('GM_N8N_PROTOCOL=http\n');
  expect(fs.readdirSync(path.join(fleet.efs.dir, 'tls'))).toEqual([]);
});

test('a bad GM_N8N_TLS value is refused with one line (exit 2)', async () => {
  const host = fleet.host('a', { GM_N8N_TLS: 'letsencrypt' });
  const result = await host.run('start.sh');
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("setting GM_N8N_TLS must be off or self-signed (got 'letsencrypt')");
});
