/** Real local servers for probes: 127.0.0.1 only, ephemeral ports. */
import * as http from 'node:http';
import * as net from 'node:net';

export type Behaviour = 'ok' | 'fail' | 'hang';

export interface LocalServer {
  readonly port: number;
  readonly url: string;
  behaviour: Behaviour;
  requests: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** An HTTP server answering /healthz/readiness with 200 (ok), 503 (fail), or never (hang). */
export async function httpServer(initial: Behaviour = 'ok'): Promise<LocalServer> {
  const sockets = new Set<net.Socket>();
  const state = { behaviour: initial, requests: 0 };
  const server = http.createServer((request, response) => {
    state.requests += 1;
    if (state.behaviour === 'hang') return; // accept, read, never answer
    response.writeHead(state.behaviour === 'ok' && request.url === '/healthz/readiness' ? 200 : 503, { 'content-type': 'application/json' });
    response.end('{"status":"ok"}');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plain TCP server that accepts and says nothing (a TCP probe succeeds, an HTTP probe hangs). */
export async function tcpServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
