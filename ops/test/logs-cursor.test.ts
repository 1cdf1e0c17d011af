/**
 * The log cursor across many polls: every line printed exactly once and in order, with bursts of
 * lines sharing one timestamp across poll boundaries, truncated outputs, several services.
 */
import type { LogRecord, LogSource } from '../src/logs/cursor';
import { followLogs, type FollowerOptions } from '../src/logs/follower';
import { parseSince } from '../src/logs/since';
import { FakeLogHost } from './helpers/fake-log-host';

/** Deterministic pseudo-random numbers (a test must replay the same way). */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const DOCKER: LogSource[] = ['n8n', 'postgres', 'qdrant'].map((service) => ({ kind: 'docker', service }));

interface Run {
  records: LogRecord[];
  notices: string[];
  polls: number;
  sleeps: number[];
}

type OnPoll = (poll: number, controller: AbortController, printed: number) => void;

async function follow(host: FakeLogHost, options: Partial<FollowerOptions> & { sources: LogSource[]; onPoll?: OnPoll }): Promise<Run> {
  const records: LogRecord[] = [];
  const notices: string[] = [];
  const sleeps: number[] = [];
  const controller = new AbortController();
  let ids = 0;
  const summary = await followLogs({
    follow: false,
    budget: 2000,
    emit: (r) => records.push(r),
    notice: (n) => notices.push(n),
    sleep: async (ms) => {
      sleeps.push(ms);
      host.nowNs += BigInt(ms) * 1_000_000n;
    },
    signal: controller.signal,
    randomId: () => `t${(ids += 1)}abcdef`,
    run: async (_script, request) => {
      const stdout = host.answer(request).slice(0, 24_000);
      options.onPoll?.(host.polls, controller, records.length);
      return { stdout };
    },
    ...options,
  });
  return { records, notices, polls: summary.polls, sleeps };
}

function byService(records: LogRecord[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const r of records) map.set(r.service, [...(map.get(r.service) ?? []), r.message]);
  return map;
}

function expectGloballyOrdered(records: LogRecord[]): void {
  for (let i = 1; i < records.length; i += 1) {
    expect(records[i].timestamp! >= records[i - 1].timestamp!).toBe(true);
  }
}

describe('log cursor: following a busy host', () => {
  it('prints 12,000 lines exactly once and in order across hundreds of truncated polls', async () => {
    const host = new FakeLogHost();
    const random = rng(42);
    const expected = new Map<string, string[]>(DOCKER.map((s) => [s.service, []]));
    let produced = 0;
    const target = 12_000;
    // Each poll the host gains lines: bursts sharing one timestamp (up to 60 lines, more than a
    // poll's share holds), so same-timestamp runs straddle poll boundaries all the time.
    const produce = () => {
      const bursts = Math.floor(random() * 8);
      for (let b = 0; b < bursts && produced < target; b += 1) {
        host.nowNs += BigInt(1 + Math.floor(random() * 3_000_000));
        const service = DOCKER[Math.floor(random() * DOCKER.length)].service;
        const size = random() < 0.2 ? 20 + Math.floor(random() * 40) : 1 + Math.floor(random() * 4);
        for (let i = 0; i < size && produced < target; i += 1) {
          // Some messages repeat verbatim at the same timestamp: a set of messages would merge them.
          const message = random() < 0.1 ? 'heartbeat' : `${service} line ${produced} ${'x'.repeat(Math.floor(random() * 50))}`;
          host.append(service, message);
          expected.get(service)!.push(message);
          produced += 1;
        }
      }
    };
    produce();
    // Stop once everything was produced and the follower printed nothing new for 5 polls (or after
    // far more polls than needed, so a lost line fails the test instead of hanging it).
    let lastPrinted = -1;
    let quiet = 0;
    const run = await follow(host, {
      sources: DOCKER,
      follow: true,
      tail: 1_000_000,
      budget: 1500,
      onPoll: (poll, controller, printed) => {
        if (produced < target) produce();
        quiet = printed === lastPrinted ? quiet + 1 : 0;
        lastPrinted = printed;
        if ((produced >= target && quiet >= 5) || printed > target || poll > 5_000) controller.abort();
      },
    });
    expect(produced).toBe(target);
    const printed = byService(run.records);
    for (const { service } of DOCKER) expect(printed.get(service)).toEqual(expected.get(service));
    expect(run.records).toHaveLength(target);
    expectGloballyOrdered(run.records);
    expect(run.polls).toBeGreaterThan(200);
    expect(run.polls).toBeLessThan(5_000);
  });

  it('draining (no --follow) 10,000 lines of history with --since: every line once, then stops', async () => {
    const host = new FakeLogHost();
    const random = rng(7);
    const expected: string[] = [];
    host.nowNs -= 3_600_000_000_000n;
    for (let i = 0; i < 10_000; ) {
      host.nowNs += BigInt(Math.floor(random() * 100_000_000));
      const run = random() < 0.3 ? 30 : 1;
      for (let j = 0; j < run && i < 10_000; j += 1, i += 1) {
        host.append('n8n', `event ${i}`);
        expected.push(`event ${i}`);
      }
    }
    host.nowNs += 1_000_000_000n;
    const { records, polls } = await follow(host, {
      sources: [{ kind: 'docker', service: 'n8n' }],
      since: parseSince('2h'),
      budget: 3000,
    });
    expect(records.map((r) => r.message)).toEqual(expected);
    expect(polls).toBeGreaterThan(50);
  });

  it('--tail starting inside a burst of equal timestamps: shows the tail, then continues without repeats', async () => {
    const host = new FakeLogHost();
    for (let i = 0; i < 50; i += 1) host.append('n8n', `old ${i}`, 1_000n); // 50 lines at one instant
    host.nowNs = 2_000n;
    const after: string[] = [];
    const run = await follow(host, {
      sources: [{ kind: 'docker', service: 'n8n' }],
      follow: true,
      tail: 10,
      budget: 5000,
      onPoll: (poll, controller) => {
        if (poll === 1) {
          // Lines arrive at the very same instant as the tail window, and later.
          host.append('n8n', 'same instant', 1_000n);
          after.push('same instant');
          host.append('n8n', 'later', 3_000n);
          after.push('later');
        }
        if (poll === 4) controller.abort();
      },
    });
    const expected = [...Array.from({ length: 10 }, (_, i) => `old ${40 + i}`), ...after];
    expect(run.records.map((r) => r.message)).toEqual(expected);
  });

  it('merges services in timestamp order even when one is truncated and the others are not', async () => {
    const host = new FakeLogHost();
    for (let i = 0; i < 200; i += 1) host.append('n8n', `n8n ${i} ${'y'.repeat(40)}`, BigInt(1_000 + i * 10));
    for (let i = 0; i < 20; i += 1) host.append('qdrant', `qdrant ${i}`, BigInt(1_005 + i * 100));
    const { records } = await follow(host, {
      sources: [
        { kind: 'docker', service: 'n8n' },
        { kind: 'docker', service: 'qdrant' },
      ],
      tail: 1000,
      budget: 2000,
    });
    expect(records).toHaveLength(220);
    expectGloballyOrdered(records);
    expect(byService(records).get('qdrant')).toEqual(Array.from({ length: 20 }, (_, i) => `qdrant ${i}`));
  });

  it('a line longer than a poll can hold is printed once, cut and marked, and the stream goes on', async () => {
    const host = new FakeLogHost();
    host.append('n8n', 'before', 10n);
    host.append('n8n', 'z'.repeat(5000), 20n);
    host.append('n8n', 'after', 30n);
    const { records } = await follow(host, { sources: [{ kind: 'docker', service: 'n8n' }], tail: 100, budget: 1000 });
    expect(records.map((r) => r.message.slice(0, 6))).toEqual(['before', 'zzzzzz', 'after']);
    expect(records[1].truncated).toBe(true);
    expect(records[1].message.length).toBeLessThan(1000);
  });

  it('the bootstrap log: a line cursor, --tail, truncation and rotation', async () => {
    const host = new FakeLogHost();
    const path = '/var/log/geusemaker-bootstrap.log';
    host.files.set(path, Array.from({ length: 300 }, (_, i) => `2025-01-15T11:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z step ${i}`));
    const seen: string[] = [];
    const run = await follow(host, {
      sources: [{ kind: 'file', service: 'bootstrap', path }],
      follow: true,
      tail: 250,
      budget: 800,
      onPoll: (poll, controller) => {
        if (poll === 30) host.files.get(path)!.push('appended 1', 'appended 2');
        if (poll === 40) host.files.set(path, ['rotated 0', 'rotated 1']);
        if (poll === 50) controller.abort();
      },
    });
    for (const r of run.records) seen.push(r.message);
    expect(seen.slice(0, 250)).toEqual(Array.from({ length: 250 }, (_, i) => host.files.get(path) && `2025-01-15T11:${String(Math.floor((i + 50) / 60)).padStart(2, '0')}:${String((i + 50) % 60).padStart(2, '0')}Z step ${i + 50}`));
    expect(seen.slice(250)).toEqual(['appended 1', 'appended 2', 'rotated 0', 'rotated 1']);
    expect(run.notices.some((n) => n.includes('truncated or rotated'))).toBe(true);
    expect(run.records[0].timestamp).toBe('2025-01-15T11:00:50Z');
  });

  it('notices a missing container once and picks it up when it appears', async () => {
    const host = new FakeLogHost();
    host.append('n8n', 'n8n up', 5n);
    const run = await follow(host, {
      sources: DOCKER.slice(0, 2),
      follow: true,
      tail: 10,
      onPoll: (poll, controller) => {
        if (poll === 3) host.append('postgres', 'postgres started');
        if (poll === 6) controller.abort();
      },
    });
    expect(run.records.map((r) => `${r.service}:${r.message}`)).toEqual(['n8n:n8n up', 'postgres:postgres started']);
    expect(run.notices.filter((n) => n.includes('no container for service postgres'))).toHaveLength(1);
  });

  it('paces itself: fast while lines arrive, backing off to the maximum while idle', async () => {
    const host = new FakeLogHost();
    host.append('n8n', 'a');
    const run = await follow(host, {
      sources: [{ kind: 'docker', service: 'n8n' }],
      follow: true,
      tail: 10,
      onPoll: (poll, controller) => {
        if (poll === 8) host.append('n8n', 'b');
        if (poll === 12) controller.abort();
      },
    });
    expect(run.records.map((r) => r.message)).toEqual(['a', 'b']);
    expect(run.sleeps).toEqual([1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000, 1000, 2000, 4000]);
  });
});
