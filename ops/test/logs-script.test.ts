/**
 * The real log script, run under dash and bash against a stub docker: output format, host-side caps,
 * skip and pre counts; then `gm-ops logs` end to end through the CLI with SSM answering by running
 * the script for real.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HOST_PATHS } from '../src/contract';
import { parsePollOutput } from '../src/logs/parse-output';
import { renderLogScript } from '../src/logs/script';
import { FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { StubHost, ts } from './helpers/stub-host';

const BASE = Date.parse('2025-01-15T10:00:00Z');
let host: StubHost;
beforeEach(() => {
  host = new StubHost({
    containers: { n8n: 'c-n8n', postgres: 'c-pg' },
    logs: {
      'c-n8n': [
        `${ts(BASE, 1)} first`,
        ...Array.from({ length: 5 }, (_, i) => `${ts(BASE, 500)} burst ${i}`),
        `${ts(BASE + 1000)} after`,
      ],
      'c-pg': [`${ts(BASE + 10)} ready to accept connections`],
    },
  });
});
afterEach(() => host.cleanup());

describe.each(['dash', 'bash'])('the log script under %s', (shell) => {
  it('tail mode: returns the window, counts the same-timestamp lines before it (pre)', () => {
    const script = renderLogScript({
      token: 'abcdef12',
      budgetPerSource: 5000,
      sources: [
        { kind: 'docker', service: 'n8n', skip: 0, tail: 3 },
        { kind: 'docker', service: 'postgres', skip: 0, tail: 10 },
        { kind: 'docker', service: 'qdrant', skip: 0, tail: 10 },
      ],
    });
    const output = parsePollOutput(host.run(script, shell), 'abcdef12');
    expect(output.complete).toBe(true);
    expect(output.dockerAvailable).toBe(true);
    expect(output.hostNow).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const n8n = output.chunks.get('n8n')!;
    expect(n8n.lines).toEqual([`${ts(BASE, 500)} burst 3`, `${ts(BASE, 500)} burst 4`, `${ts(BASE + 1000)} after`]);
    expect(n8n.pre).toBe(3); // burst 0..2 share the window's first timestamp
    expect(n8n.truncated).toBe(false);
    expect(output.chunks.get('postgres')!.lines).toEqual([`${ts(BASE + 10)} ready to accept connections`]);
    expect(output.chunks.get('qdrant')!.status).toBe('missing');
  });

  it('since mode: skips the lines already printed at the cursor on the host, honours --until', () => {
    const script = renderLogScript({
      token: 'abcdef12',
      budgetPerSource: 5000,
      sources: [{ kind: 'docker', service: 'n8n', since: ts(BASE, 500), skip: 2, until: ts(BASE, 500) }],
    });
    const n8n = parsePollOutput(host.run(script, shell), 'abcdef12').chunks.get('n8n')!;
    expect(n8n.lines.map((l) => l.split(' ').slice(1).join(' '))).toEqual(['burst 2', 'burst 3', 'burst 4']);
  });

  it('caps each source on the host (head -c) and says it truncated', () => {
    host.state.logs!['c-n8n'] = Array.from({ length: 400 }, (_, i) => `${ts(BASE + i)} line ${i} ${'p'.repeat(40)}`);
    const script = renderLogScript({ token: 'abcdef12', budgetPerSource: 1000, sources: [{ kind: 'docker', service: 'n8n', skip: 0, tail: 400 }] });
    const stdout = host.run(script, shell);
    const n8n = parsePollOutput(stdout, 'abcdef12').chunks.get('n8n')!;
    expect(n8n.truncated).toBe(true);
    const bytes = n8n.lines.reduce((sum, l) => sum + l.length + 1, 0) + (n8n.partial?.length ?? 0);
    expect(bytes).toBe(1000);
    expect(n8n.lines[0]).toContain('line 0 ');
    expect(stdout.length).toBeLessThan(1300);
  });

  it('reads the bootstrap log by line number, and restarts after a rotation', () => {
    const file = path.join(host.dir, 'bootstrap.log');
    fs.writeFileSync(file, 'one\ntwo\nthree\nfour (being written');
    const script = (startLine?: number) =>
      renderLogScript({
        token: 'abcdef12',
        budgetPerSource: 5000,
        sources: [{ kind: 'file', service: 'bootstrap', path: HOST_PATHS.bootstrapLog, startLine, tail: startLine ? undefined : 2 }],
      });
    const tail = parsePollOutput(host.run(script(), shell, { [HOST_PATHS.bootstrapLog]: file }), 'abcdef12').chunks.get('bootstrap')!;
    expect(tail).toMatchObject({ startLine: 2, lines: ['two', 'three'], partial: 'four (being written', truncated: false });
    const rotated = parsePollOutput(host.run(script(40), shell, { [HOST_PATHS.bootstrapLog]: file }), 'abcdef12').chunks.get('bootstrap')!;
    expect(rotated.startLine).toBe(1);
    fs.rmSync(file);
    expect(parsePollOutput(host.run(script(), shell, { [HOST_PATHS.bootstrapLog]: file }), 'abcdef12').chunks.get('bootstrap')!.status).toBe('missing');
  });

  it('says when Docker does not answer', () => {
    host.state.down = true;
    const output = parsePollOutput(
      host.run(renderLogScript({ token: 'abcdef12', budgetPerSource: 1000, sources: [{ kind: 'docker', service: 'n8n', skip: 0, tail: 5 }] }), shell),
      'abcdef12',
    );
    expect(output.dockerAvailable).toBe(false);
    expect(output.chunks.get('n8n')!.status).toBe('missing');
  });
});

describe('gm-ops logs end to end (SSM runs the real script under sh)', () => {
  let aws: FakeAws;
  let bootstrap: string;
  beforeEach(() => {
    aws = new FakeAws();
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-logs' } });
    bootstrap = path.join(host.dir, 'bootstrap.log');
    aws.hosts.set('i-logs', (script) => host.run(script, 'sh', { [HOST_PATHS.bootstrapLog]: bootstrap }));
  });
  afterEach(() => aws.restore());

  it('drains 1,500 lines of three sources over several polls: NDJSON, each line once, in order', async () => {
    const now = Date.now();
    const lines = (service: string, count: number, offset: number) =>
      Array.from({ length: count }, (_, i) => `${ts(now - 3_000_000 + Math.floor(i / 4) * 1000 + offset)} ${service} ${i} ${'m'.repeat(30 + (i % 20))}`);
    host.state.logs = { 'c-n8n': lines('n8n', 600, 0), 'c-pg': lines('postgres', 600, 1) };
    fs.writeFileSync(bootstrap, Array.from({ length: 300 }, (_, i) => `bootstrap step ${i}`).join('\n') + '\n');

    const result = await runWith(
      { clients: aws.clients() },
      'logs', 'my-stack', '--service', 'n8n', '--service', 'postgres', '--service', 'bootstrap', '--since', '2h', '--json',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const of = (service: string) => records.filter((r) => r.service === service).map((r) => r.message);
    expect(of('n8n')).toEqual(host.state.logs['c-n8n'].map((l) => l.slice(l.indexOf(' ') + 1)));
    expect(of('postgres')).toEqual(host.state.logs['c-pg'].map((l) => l.slice(l.indexOf(' ') + 1)));
    expect(of('bootstrap')).toEqual(Array.from({ length: 300 }, (_, i) => `bootstrap step ${i}`));
    expect(records.find((r) => r.service === 'n8n')).toEqual({
      timestamp: host.state.logs['c-n8n'][0].split(' ')[0],
      service: 'n8n',
      message: host.state.logs['c-n8n'][0].slice(host.state.logs['c-n8n'][0].indexOf(' ') + 1),
    });
    // Several polls, each one SSM command for all sources, each output within what SSM returns.
    expect(aws.scripts.length).toBeGreaterThan(2);
    for (const { script } of aws.scripts) expect(script.match(/docker logs --timestamps/g)!.length).toBeLessThanOrEqual(2);
  });

  it('prints `service | message` lines by default (100 lines of tail)', async () => {
    host.state.logs = { 'c-n8n': Array.from({ length: 150 }, (_, i) => `${ts(BASE + i)} n8n says ${i}`), 'c-pg': [] };
    const result = await runWith({ clients: aws.clients() }, 'logs', 'my-stack', '-s', 'n8n', '-s', 'postgres');
    expect(result.code).toBe(0);
    const out = result.stdout.trim().split('\n');
    expect(out).toHaveLength(100);
    expect(out[0]).toBe('n8n      | n8n says 50');
    expect(out[99]).toBe('n8n      | n8n says 149');
    expect(aws.scripts).toHaveLength(1);
  });
});
