import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import * as tls from 'tls';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { N8nProcess } from '../../lib/scale/n8n-process';
import { n8nImages } from '../../lib/scale/n8n-images';
import { RDS_CA_FETCH_SCRIPT } from '../../lib/scale/rds-ca';
import { tempDir } from '../helpers/temp-dirs';

// A self-signed certificate for localhost / 127.0.0.1 (the runtime's fixture): its own CA, as a database's chain is the RDS CA's.
const FIXTURES = path.join(__dirname, '..', 'runtime', 'fixtures');
const serverCert = fs.readFileSync(path.join(FIXTURES, 'n8n-test.crt'), 'utf8');
const serverKey = fs.readFileSync(path.join(FIXTURES, 'n8n-test.key'), 'utf8');
// A second, unrelated certificate, as a regional bundle holds several CAs.
const otherCa = tls.rootCertificates[0];

type Answer = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** A local HTTP server answering each request with the next of `answers` (the last one repeats); counts requests. */
async function bundleServer(...answers: Answer[]): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<import('net').Socket>();
  const server = http.createServer((request, response) => {
    requests += 1;
    answers[Math.min(requests, answers.length) - 1](request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/eu-west-1/eu-west-1-bundle.pem`,
    requests: () => requests,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

const serve = (status: number, body: string): Answer => (_request, response) => {
  response.writeHead(status, { 'content-type': 'application/x-pem-file' });
  response.end(body);
};
const hang: Answer = () => undefined;

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

/** Runs the init container's script under node, as ECS would (`node -e <script>`), with its settings. */
function runScript(settings: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', RDS_CA_FETCH_SCRIPT], { env: { PATH: process.env.PATH, ...settings }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function settingsFor(url: string, file: string, overrides: Record<string, string> = {}): Record<string, string> {
  return { GM_RDS_CA_URL: url, GM_RDS_CA_FILE: file, GM_RDS_CA_ATTEMPTS: '3', GM_RDS_CA_TIMEOUT_MS: '2000', GM_RDS_CA_RETRY_MS: '0', ...overrides };
}

/** A TLS handshake to `port` trusting only `ca`, for the name `servername`: the error code, or 'verified'. */
function handshake(port: number, ca: string | undefined, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername, rejectUnauthorized: true }, () => {
      socket.end();
      resolve('verified');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('the rds-ca init container\'s script', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = tempDir('gm-rds-ca-');
    file = path.join(dir, 'rds-ca-bundle.pem');
  });

  test('writes only the bundle\'s certificates, without trailing whitespace, 0644; and n8n\'s TLS then verifies chain and name', async () => {
    const server = await bundleServer(serve(200, `# RDS bundle\n${serverCert}\n${otherCa}\n\n`));
    try {
      const run = await runScript(settingsFor(server.url, file));
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`rds-ca: 2 certificates from ${server.url} written to ${file}`);
      const written = fs.readFileSync(file, 'utf8');
      expect(written).toBe(`${serverCert.trim()}\n${otherCa.trim()}`);
      expect(fs.statSync(file).mode & 0o777).toBe(0o644);
      expect(fs.readdirSync(dir)).toEqual(['rds-ca-bundle.pem']);
      expect(server.requests()).toBe(1);

      // What @n8n/config reads (the _FILE value, trimmed) is what pg hands Node's TLS as `ca`, with rejectUnauthorized
      // and the host as servername.
      const database = tls.createServer({ key: serverKey, cert: serverCert }, (socket) => socket.end());
      await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
      const { port } = database.address() as AddressInfo;
      try {
        expect(await handshake(port, written.trim(), 'localhost')).toBe('verified');
        expect(await handshake(port, written.trim(), 'geusemaker.abc123.eu-west-1.rds.amazonaws.com')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
        expect(await handshake(port, otherCa, 'localhost')).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
        expect(await handshake(port, undefined, 'localhost')).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      } finally {
        await new Promise((resolve) => database.close(resolve));
      }
    } finally {
      await server.close();
    }
  });

  test('a 404 fails at once (no retry), names the URL and writes nothing', async () => {
    const server = await bundleServer(serve(404, 'Not Found'));
    try {
      const run = await runScript(settingsFor(server.url, file));
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe(`rds-ca: cannot fetch ${server.url}: HTTP 404 (attempt 1 of 3); n8n will not start`);
      expect(server.requests()).toBe(1);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test('no answer: each attempt ends at its timeout, and the script exits 1 after the last', async () => {
    const server = await bundleServer(hang);
    try {
      const run = await runScript(settingsFor(server.url, file, { GM_RDS_CA_ATTEMPTS: '2', GM_RDS_CA_TIMEOUT_MS: '500' }));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`rds-ca: ${server.url}: no answer within 500 ms (attempt 1 of 2); retrying in 0 ms`);
      expect(run.stderr).toContain(`rds-ca: cannot fetch ${server.url}: no answer within 500 ms (attempt 2 of 2); n8n will not start`);
      expect(server.requests()).toBe(2);
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      await server.close();
    }
  });

  test('a 503 or a refused connection is retried; success on a later attempt writes the bundle', async () => {
    const server = await bundleServer(serve(503, 'busy'), serve(200, serverCert));
    try {
      const run = await runScript(settingsFor(server.url, file));
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('HTTP 503 (attempt 1 of 3); retrying in 0 ms');
      expect(server.requests()).toBe(2);
      expect(fs.readFileSync(file, 'utf8')).toBe(serverCert.trim());
    } finally {
      await server.close();
    }
    const refused = await runScript(settingsFor(server.url, file.replace('.pem', '-2.pem'), { GM_RDS_CA_ATTEMPTS: '2' }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/attempt 1 of 2\); retrying in 0 ms\n.*fetch failed \(ECONNREFUSED\) \(attempt 2 of 2\); n8n will not start/);
  });

  test('an answer that is not a certificate bundle fails at once: an HTML page, or a PEM block that does not parse', async () => {
    for (const body of ['<html>Access Denied</html>', '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n']) {
      const server = await bundleServer(serve(200, body));
      try {
        const run = await runScript(settingsFor(server.url, file));
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/: (the answer holds no PEM certificate|certificate 1 does not parse: .+) \(attempt 1 of 3\); n8n will not start\n$/);
        expect(server.requests()).toBe(1);
        expect(fs.existsSync(file)).toBe(false);
      } finally {
        await server.close();
      }
    }
  });

  test('a missing setting is one line naming it, exit 2', async () => {
    const run = await runScript({ GM_RDS_CA_URL: 'http://127.0.0.1:9/', GM_RDS_CA_FILE: file });
    expect(run).toMatchObject({ code: 2, stdout: '', stderr: 'rds-ca: GM_RDS_CA_ATTEMPTS is not set\n' });
  });
});

describe('N8nProcess and the database\'s TLS settings', () => {
  test('refuses DB_POSTGRESDB_SSL_* from its caller in one line: it sets them itself', () => {
    const stack = new Stack(new App(), 'Probe');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    const logGroup = new logs.LogGroup(stack, 'Logs');
    const secret = ecs.Secret.fromSsmParameter(new ssm.StringParameter(stack, 'Token', { stringValue: 'x' }));
    const make = (environment: Record<string, string>) => new N8nProcess(stack, `P${Object.keys(environment).length}`, {
      role: 'worker', cluster: new ecs.Cluster(stack, `C${Object.keys(environment).length}`, { vpc }), vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: new ec2.SecurityGroup(stack, `S${Object.keys(environment).length}`, { vpc }), cpu: 512, memoryMiB: 1024, spot: true,
      images: n8nImages(), command: ['worker'], environment, databaseCaBundleUrl: 'https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem',
      secrets: {}, runnerAuthToken: secret, runnerConcurrency: 5, logGroup, runnerLogGroup: logGroup,
    });
    expect(() => make({ GENERIC_TIMEZONE: 'UTC', DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED: 'false', DB_POSTGRESDB_SSL_CA: 'x' }))
      .toThrow(/^N8nProcess worker: DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED, DB_POSTGRESDB_SSL_CA must not be set: the construct sets the database's TLS settings itself$/);
    expect(() => make({ GENERIC_TIMEZONE: 'UTC' })).not.toThrow();
  });
});
