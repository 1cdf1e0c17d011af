/**
 * A minimal Redis client (RESP2 over node:net or node:tls) for the backlog function: connect, AUTH, a few read-only
 * commands, quit. No third-party code, so the function ships as its own compiled files with nothing to bundle.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';

export type RespValue = string | number | null | RespValue[];

/** An error reply of the server (`-ERR …`, `-WRONGPASS …`, `-WRONGTYPE …`). */
export class RedisReplyError extends Error {}

export interface RedisOptions {
  readonly host: string;
  readonly port: number;
  /** TLS with the server's certificate checked against the system's CAs (ElastiCache's certificates are public). */
  readonly tls: boolean;
  /** Extra CAs to trust (tests: a self-signed server). */
  readonly ca?: string;
  /** ACL user name; the token alone authenticates the default user. */
  readonly username?: string;
  /** Password or ElastiCache auth token; no AUTH when absent. */
  readonly password?: string;
  /** Connecting and each reply; the whole exchange fails past it. */
  readonly timeoutMs: number;
}

export interface RedisConnection {
  /** Sends one command and resolves with its reply; an error reply rejects with RedisReplyError. */
  command(...args: Array<string | number>): Promise<RespValue>;
  /** QUIT, then closes the socket. */
  close(): Promise<void>;
}

/** Encodes one command as a RESP array of bulk strings. */
export function encodeCommand(args: Array<string | number>): Buffer {
  const parts = args.map((a) => Buffer.from(String(a), 'utf8'));
  return Buffer.concat([
    Buffer.from(`*${parts.length}\r\n`),
    ...parts.flatMap((p) => [Buffer.from(`$${p.length}\r\n`), p, Buffer.from('\r\n')]),
  ]);
}

type Parsed = { value: RespValue | RedisReplyError; next: number } | undefined;

/** Parses one reply at `offset` of `buf`; undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, offset = 0): Parsed {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: after };
    case '-':
      return { value: new RedisReplyError(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: after };
      if (buf.length < after + length + 2) return undefined;
      return { value: buf.toString('utf8', after, after + length), next: after + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (!item) return undefined;
        if (item.value instanceof RedisReplyError) throw item.value;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected reply type byte 0x${buf[offset].toString(16)}`);
  }
}

/** Connects (TLS or not), authenticates when a password is given, and returns the connection. */
export async function connectRedis(options: RedisOptions): Promise<RedisConnection> {
  const socket: net.Socket = await new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(error);
    };
    const timer = setTimeout(() => onError(new Error(`no connection to ${options.host}:${options.port} within ${options.timeoutMs} ms`)), options.timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      sock.off('error', onError);
      resolve(sock);
    };
    const sock = options.tls
      ? tls.connect({ host: options.host, port: options.port, servername: net.isIP(options.host) ? undefined : options.host, ca: options.ca, rejectUnauthorized: true }, ready)
      : net.connect({ host: options.host, port: options.port }, ready);
    sock.once('error', onError);
  });

  let buffer: Buffer = Buffer.alloc(0);
  const pending: Array<{ resolve: (v: RespValue) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const p of pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(failure);
    }
    socket.destroy();
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    try {
      let parsed = parseReply(buffer);
      while (parsed) {
        buffer = buffer.subarray(parsed.next);
        const waiter = pending.shift();
        if (!waiter) throw new Error('a reply nobody asked for');
        clearTimeout(waiter.timer);
        if (parsed.value instanceof RedisReplyError) waiter.reject(parsed.value);
        else waiter.resolve(parsed.value);
        parsed = buffer.length ? parseReply(buffer) : undefined;
      }
    } catch (error) {
      failAll(error as Error);
    }
  });
  socket.on('error', (error) => failAll(error));
  socket.on('close', () => failAll(new Error('connection closed by the server')));

  const command = (...args: Array<string | number>): Promise<RespValue> => new Promise((resolve, reject) => {
    if (failure) return reject(failure);
    const timer = setTimeout(() => failAll(new Error(`no reply to ${String(args[0])} within ${options.timeoutMs} ms`)), options.timeoutMs);
    pending.push({ resolve, reject, timer });
    socket.write(encodeCommand(args));
  });

  const close = async (): Promise<void> => {
    try {
      if (!failure) await command('QUIT');
    } catch {
      // closing anyway
    }
    socket.destroy();
  };

  if (options.password) {
    try {
      await command('AUTH', ...(options.username ? [options.username] : []), options.password);
    } catch (error) {
      await close();
      throw error;
    }
  }
  return { command, close };
}
