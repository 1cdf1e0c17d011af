/** Fake host answers for the scripts gm-ops sends through SSM. */

/** The marker token a script uses (`@@gm-ops:<token>`). */
export function tokenOf(script: string): string {
  const match = /@@gm-ops:([A-Za-z0-9]+)/.exec(script);
  if (!match) throw new Error('no marker in script');
  return match[1];
}

export interface FakeContainer {
  service: string;
  state?: string;
  health?: string;
  restarts?: number;
  startedAt?: string;
  image?: string;
}

export function containerLines(token: string, containers: readonly FakeContainer[]): string {
  return containers
    .map((c) =>
      [
        `@@gm-ops:${token} container`,
        c.service,
        c.state ?? 'running',
        c.health ?? 'healthy',
        String(c.restarts ?? 0),
        c.startedAt ?? '2025-01-15T09:05:00.123456789Z',
        c.image ?? `${c.service}:1.0`,
      ].join('\t'),
    )
    .join('\n');
}

export const ALL_RUNNING: FakeContainer[] = [
  { service: 'n8n', image: 'n8nio/n8n:1.80.0' },
  { service: 'postgres', image: 'postgres:16.6' },
  { service: 'ollama', health: 'none', image: 'ollama/ollama:0.5.7' },
  { service: 'qdrant', image: 'qdrant/qdrant:v1.13.2' },
  { service: 'crawl4ai', image: 'unclecode/crawl4ai:0.4.248' },
];
