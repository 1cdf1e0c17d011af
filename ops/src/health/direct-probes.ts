/**
 * Probes from this machine (`health --direct`): an HTTP GET or a TCP connect, each bounded by one
 * deadline for the whole exchange (not a socket idle timeout), so a server that accepts and then
 * hangs still ends the probe on time.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';

export interface DirectProbeOutcome {
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly detail: string;
}

export interface DirectProbeOptions {
  readonly timeoutMs: number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
}

export function describeNetworkError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'DNS lookup failed';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      if (error.code && /CERT|SSL|TLS/.test(error.code)) return `TLS error (${error.code})`;
      return error.code ? `${error.code}: ${error.message}` : error.message;
  }
}

export function probeHttp(url: string, options: DirectProbeOptions): Promise<DirectProbeOutcome> {
  return new Promise((resolve) => {
    const start = options.now();
    let settled = false;
    let request: http.ClientRequest | undefined;
    const finish = (outcome: DirectProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, latencyMs: options.now() - start, detail: `no response within ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish({ ok: false, latencyMs: 0, detail: `invalid URL ${url}` });
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    request = client.request(
      target,
      { method: 'GET', agent: false, headers: { 'user-agent': 'gm-ops health', accept: '*/*' } },
      (response) => {
        const status = response.statusCode ?? 0;
        response.on('error', () => undefined);
        response.resume();
        finish({ ok: status >= 200 && status < 400, latencyMs: options.now() - start, detail: `HTTP ${status}` });
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, latencyMs: options.now() - start, detail: describeNetworkError(error) }),
    );
    request.end();
  });
}

export function probeTcp(host: string, port: number, options: DirectProbeOptions): Promise<DirectProbeOutcome> {
  return new Promise((resolve) => {
    const start = options.now();
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (outcome: DirectProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, latencyMs: options.now() - start, detail: `no connection within ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    socket.once('connect', () => finish({ ok: true, latencyMs: options.now() - start, detail: 'connected' }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, latencyMs: options.now() - start, detail: describeNetworkError(error) }),
    );
  });
}
