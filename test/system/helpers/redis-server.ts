/**
 * A real Redis server from Debian's `redis-server` package for one test file: started on a free loopback port with its
 * own temporary directory and no persistence (no RDB snapshot, no AOF), optionally with a password (requirepass) and
 * a TLS port, and stopped (SIGTERM, then SIGKILL) when the file is done.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export interface RedisServerOptions {
  /** requirepass: AUTH with this password (the default user), as ElastiCache's auth token. */
  readonly password?: string;
  /** Serve TLS only (port 0 for plain text), with this certificate and key (PEM files). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  /** Runs redis-cli against the server (as the default user with the password, over plain text only). */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

/** The redis-server binary, or an error that says how to install it. */
export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error("redis-server is not installed: apt-get install -y redis-server (Debian's package; .ci/run installs it)");
  return found;
}

/** A port the kernel just handed out on 127.0.0.1 and released. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-redis-'));
  const port = await freePort();
  const args = [
    '--bind', '127.0.0.1', '--protected-mode', 'no', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log'), '--databases', '1',
  ];
  if (options.password) args.push('--requirepass', options.password);
  if (options.tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile,
      '--tls-ca-cert-file', options.tls.certFile, '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  const child: ChildProcess = spawn(binary, args, { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (exited || Date.now() > deadline) {
      const log = fs.existsSync(path.join(dir, 'redis.log')) ? fs.readFileSync(path.join(dir, 'redis.log'), 'utf8') : '';
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on 127.0.0.1:${port}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    dir,
    cli: (...cliArgs: string[]) => {
      if (options.tls) throw new Error('redis-cli helper speaks plain text only');
      const auth = options.password ? ['--no-auth-warning', '-a', options.password] : [];
      const out = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...auth, ...cliArgs], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`redis-cli ${cliArgs.join(' ')}: ${out.stderr}`);
      return out.stdout.trim();
    },
    stop: async () => {
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
