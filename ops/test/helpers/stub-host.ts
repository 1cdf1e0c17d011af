/** Runs a gm-ops host script for real under sh, with the stub docker and curl first on PATH. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FUNCTION_CHECK_PATH } from '../../src/health/function-check';

export const STUB_BIN = path.join(__dirname, 'stub-bin');
/** Stands in for the runtime's functional-check.sh (see fake-runtime/functional-check.js). */
export const FAKE_FUNCTIONAL_CHECK = path.join(__dirname, 'fake-runtime', 'functional-check.sh');

/** What the fake functional check answers (see fake-runtime/functional-check.js). */
export interface FunctionalState {
  fail?: Record<string, string>;
  ms?: Record<string, number>;
  raw?: string[];
  exit?: number;
  stderr?: string;
  config?: string;
}

export interface StubState {
  down?: boolean;
  containers?: Record<string, string>;
  logs?: Record<string, string[]>;
  inspect?: Record<string, { service: string; status: string; health: string; restarts: number; startedAt: string; image: string }>;
  pg?: { exit?: number; hang?: boolean };
  curl?: Record<string, { code: number; time: number; exit?: number; error?: string }>;
  functional?: FunctionalState;
}

export class StubHost {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-host-'));
  readonly stateFile = path.join(this.dir, 'state.json');
  readonly callsFile = path.join(this.dir, 'calls.ndjson');

  constructor(public state: StubState = {}) {}

  /** Runs the script with `shell` (dash and bash are what AWS-RunShellScript meets as sh). */
  run(script: string, shell = 'sh', replacements: Record<string, string> = {}): string {
    fs.writeFileSync(this.stateFile, JSON.stringify(this.state));
    let body = script;
    for (const [from, to] of Object.entries(replacements)) body = body.split(from).join(to);
    return execFileSync(shell, ['-c', body], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, PATH: `${STUB_BIN}:${process.env.PATH}`, FAKE_DOCKER_STATE: this.stateFile, FAKE_DOCKER_CALLS: this.callsFile },
    });
  }

  /**
   * Runs a health script with the runtime's functional check at `functionalCheck` instead of its
   * path on a real host (default: the fake check; a path that does not exist: an older host).
   */
  runOnHost(script: string, functionalCheck = FAKE_FUNCTIONAL_CHECK, shell = 'sh'): string {
    return this.run(script, shell, { [FUNCTION_CHECK_PATH]: functionalCheck });
  }

  dockerCalls(): string[][] {
    if (!fs.existsSync(this.callsFile)) return [];
    return fs.readFileSync(this.callsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** RFC3339Nano (9 digits) at `ms` plus `extraNs`. */
export function ts(ms: number, extraNs = 0): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.${String((ms % 1000) * 1_000_000 + extraNs).padStart(9, '0')}Z`;
}

/** A host whose five services run and answer their health probes (ollama has no Docker health check). */
export function healthyHost(): StubState {
  const inspect: StubState['inspect'] = {};
  for (const [service, health] of [['n8n', 'healthy'], ['postgres', 'healthy'], ['ollama', 'none'], ['qdrant', 'healthy'], ['crawl4ai', 'healthy']]) {
    inspect[`c-${service}`] = { service, status: 'running', health, restarts: 0, startedAt: '2025-01-15T09:00:00.000000000Z', image: `${service}:1` };
  }
  return {
    containers: { n8n: 'c-n8n', postgres: 'c-postgres', ollama: 'c-ollama', qdrant: 'c-qdrant', crawl4ai: 'c-crawl4ai' },
    inspect,
    pg: { exit: 0 },
    curl: {
      'http://127.0.0.1:5678/healthz/readiness': { code: 200, time: 0.012 },
      'http://127.0.0.1:11434/api/version': { code: 200, time: 0.004 },
      'http://127.0.0.1:6333/readyz': { code: 200, time: 0.003 },
      'http://127.0.0.1:11235/health': { code: 200, time: 0.02 },
    },
  };
}
