/**
 * The price cache on disk: one JSON file per answer, with the time it was stored. List prices are
 * reused for 24 hours, spot prices for 10 minutes. The default place is
 * $XDG_CACHE_HOME/geusemaker/prices (or ~/.cache/geusemaker/prices); GM_OPS_CACHE_DIR or --cache-dir
 * moves it. A cache that cannot be read or written is skipped, never fatal.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Clock } from '../context';

export const LIST_PRICE_TTL_MS = 24 * 60 * 60 * 1000;
export const SPOT_PRICE_TTL_MS = 10 * 60 * 1000;
const FORMAT = 1;

export interface CacheHit<T> {
  readonly value: T;
  readonly storedAt: number;
}

export interface PriceCache {
  /** The entry when it is younger than `maxAgeMs`. */
  get<T>(key: string, maxAgeMs: number): CacheHit<T> | undefined;
  set<T>(key: string, value: T): void;
  readonly dir?: string;
}

/** No caching at all (--no-cache). */
export const noCache: PriceCache = {
  get: () => undefined,
  set: () => undefined,
};

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.GM_OPS_CACHE_DIR) return path.resolve(env.GM_OPS_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  const base = xdg ?? path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'geusemaker', 'prices');
}

function fileName(key: string): string {
  const readable = key.replace(/[^A-Za-z0-9.-]+/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${readable}-${hash}.json`;
}

export class DiskPriceCache implements PriceCache {
  constructor(
    readonly dir: string,
    private readonly clock: Clock,
  ) {}

  get<T>(key: string, maxAgeMs: number): CacheHit<T> | undefined {
    let entry: { format?: number; key?: string; storedAt?: number; value?: T };
    try {
      entry = JSON.parse(fs.readFileSync(path.join(this.dir, fileName(key)), 'utf8'));
    } catch {
      return undefined;
    }
    if (entry.format !== FORMAT || entry.key !== key || typeof entry.storedAt !== 'number' || entry.value === undefined) return undefined;
    const age = this.clock.now() - entry.storedAt;
    // An entry from the future (clock changed) is not trusted either.
    if (age < -60_000 || age >= maxAgeMs) return undefined;
    return { value: entry.value, storedAt: entry.storedAt };
  }

  set<T>(key: string, value: T): void {
    const file = path.join(this.dir, fileName(key));
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(temporary, JSON.stringify({ format: FORMAT, key, storedAt: this.clock.now(), value }), { mode: 0o600 });
      fs.renameSync(temporary, file);
    } catch {
      try {
        fs.rmSync(temporary, { force: true });
      } catch {
        // nothing to clean up
      }
    }
  }
}
