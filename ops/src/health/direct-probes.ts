/**
 * Probes from this machine (`health --direct`): an HTTP GET or a TCP connect, each bounded by one
 * deadline for the whole exchange (not a socket idle timeout), so a server that accepts and then
 * hangs still ends the probe on time.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface DirectProbeOutcome {
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly detail: string;
}

export interface DirectProbeOptions {
  readonly timeoutMs: number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /**
   * HTTPS: accept a self-signed certificate (the dev tier's n8n with allowedCidrs), for this probe
   * only; any other certificate problem still fails it.
   */
  readonly acceptSelfSigned?: boolean;
}

/** OpenSSL's verdicts for a self-signed certificate (alone, or at the root of the chain). */
const SELF_SIGNED_ERRORS = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);

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
    const secure = target.protocol === 'https:';
    const client = secure ? https : http;
    const acceptSelfSigned = secure && options.acceptSelfSigned === true;
    request = client.request(
      target,
      {
        method: 'GET',
        agent: false,
        headers: { 'user-agent': 'gm-ops health', accept: '*/*' },
        ...(acceptSelfSigned ? { rejectUnauthorized: false } : {}),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        response.on('error', () => undefined);
        response.resume();
        let note = '';
        if (acceptSelfSigned) {
          const socket = response.socket as TLSSocket;
          const verdict = String(socket.authorizationError ?? '');
          if (!socket.authorized && !SELF_SIGNED_ERRORS.has(verdict)) {
            finish({ ok: false, latencyMs: options.now() - start, detail: `TLS error (${verdict || 'certificate not verified'})` });
            return;
          }
          if (!socket.authorized) note = ' (self-signed certificate accepted)';
        }
        finish({ ok: status >= 200 && status < 400, latencyMs: options.now() - start, detail: `HTTP ${status}${note}` });
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
