/** Real local servers for probes: 127.0.0.1 only, ephemeral ports. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';

export type Behaviour = 'ok' | 'fail' | 'hang';

export interface LocalServer {
  readonly port: number;
  readonly url: string;
  behaviour: Behaviour;
  requests: number;
  close(): Promise<void>;
}

function listen(server: net.Server, host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/**
 * A self-signed certificate like the one the dev host generates with openssl (SAN IP:127.0.0.1 and
 * DNS:localhost): the runtime's test fixture, so no openssl is needed at test time.
 */
export function selfSignedCertificate(): { key: string; cert: string } {
  const fixtures = path.join(__dirname, '..', '..', '..', 'test', 'runtime', 'fixtures');
  return {
    key: fs.readFileSync(path.join(fixtures, 'n8n-test.key'), 'utf8'),
    cert: fs.readFileSync(path.join(fixtures, 'n8n-test.crt'), 'utf8'),
  };
}

/** An HTTP server answering /healthz/readiness with 200 (ok), 503 (fail), or never (hang); HTTPS with `tls`. */
export async function httpServer(
  initial: Behaviour = 'ok',
  options: { tls?: { key: string; cert: string }; host?: string; port?: number } = {},
): Promise<LocalServer> {
  const state = { behaviour: initial, requests: 0 };
  const handler: http.RequestListener = (request, response) => {
    state.requests += 1;
    if (state.behaviour === 'hang') return; // accept, read, never answer
    response.writeHead(state.behaviour === 'ok' && request.url === '/healthz/readiness' ? 200 : 503, { 'content-type': 'application/json' });
    response.end('{"status":"ok"}');
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  const host = options.host ?? '127.0.0.1';
  const { port, close } = await listenTracked(server, host, options.port ?? 0);
  return {
    port,
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(value: Behaviour) {
      state.behaviour = value;
    },
    get requests() {
      return state.requests;
    },
    set requests(value: number) {
      state.requests = value;
    },
    close,
  };
}

/**
 * Starts `server` on `host` (127.0.0.1) and `port` (a free one); `close` also ends the connections it still holds (keep-alive or
 * never answered), so a test's server never outlives it.
 */
export async function listenTracked(server: net.Server, host = '127.0.0.1', port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const bound = await listen(server, host, port);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plain TCP server that accepts and says nothing (a TCP probe succeeds, an HTTP probe or an AWS call hangs). */
export async function tcpServer(): Promise<{ port: number; readonly connections: number; close(): Promise<void> }> {
  let connections = 0;
  const server = net.createServer(() => {
    connections += 1;
  });
  const { port, close } = await listenTracked(server);
  return {
    port,
    get connections() {
      return connections;
    },
    close,
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
