/** `gm-ops metrics`: one SSM command for the host and its services, CloudWatch for the file system. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { hostMetricsScript, parseHostMetrics } from '../src/metrics/host-metrics';
import { awsError, FakeAws } from './helpers/fake-aws';
import { Harness, runWith } from './helpers/harness';
import { tokenOf } from './helpers/host-output';

/** What the script prints on a host (shapes of /proc/stat, /proc/meminfo, df -Pk and docker). */
function hostOutput(token: string): string {
  const m = `@@gm-ops:${token}`;
  return [
    `${m} cpu1 cpu  1000 0 500 8000 500 0 0 0 0 0`,
    `${m} cpu2 cpu  1300 0 600 8550 550 0 0 0 0 0`,
    `${m} mem MemTotal: 16369116`,
    `${m} mem MemAvailable: 12276837`,
    `${m} disk / 31444972 8734512`,
    `${m} disk /mnt/efs 9007199254739968 1048576`,
    `${m} svc\t1285939c1fd3\tn8n`,
    `${m} svc\t9c76f7834ae2\tpostgres`,
    `${m} stats\t1285939c1fd3\t12.50%\t412.3MiB / 15.61GiB\t2.58%`,
    `${m} stats\t9c76f7834ae2\t0.07%\t96.1MiB / 15.61GiB\t0.60%`,
  ].join('\n');
}

let aws: FakeAws;
const cloudWatch = mockClient(CloudWatchClient);
beforeEach(() => {
  aws = new FakeAws();
  cloudWatch.reset();
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-1' } });
  aws.hosts.set('i-1', (script) => hostOutput(tokenOf(script)));
  const at = (minutes: number) => new Date(Date.parse('2025-01-15T11:00:00Z') + minutes * 60_000);
  cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'storage', Label: 'StorageBytes', Timestamps: [at(0), at(30), at(55)], Values: [1_000_000_000, 1_500_000_000, 2_147_483_648], StatusCode: 'Complete' },
      { Id: 'io', Label: 'TotalIOBytes', Timestamps: [at(0), at(55)], Values: [30_000_000, 300_000_000], StatusCode: 'Complete' },
    ],
  });
});
afterEach(() => aws.restore());
afterAll(() => cloudWatch.restore());

describe('gm-ops metrics', () => {
  it('host CPU, memory and disks, each service, the file system with its last hour; exit 0', async () => {
    const result = await runWith({ clients: aws.clients() }, 'metrics', 'my-stack');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Between the samples: 300 user + 100 system busy, 550 idle + 50 iowait: 40% busy.
    expect(result.stdout).toMatch(/CPU\s+40%/);
    expect(result.stdout).toMatch(/Memory\s+3\.9 GiB of 15\.6 GiB \(25%\)/);
    expect(result.stdout).toMatch(/Disk \/\s+8\.3 GiB of 30\.0 GiB \(28%\)/);
    expect(result.stdout).toMatch(/^ {2}n8n\s+12\.5%\s+412\.3MiB \/ 15\.61GiB\s+2\.6%$/m);
    expect(result.stdout).toMatch(/Size\s+2\.0 GiB {2}▁▄█ {2}last hour/);
    expect(result.stdout).toMatch(/Throughput\s+977 KiB\/s {2}▁█ {2}last hour/);
    const query = cloudWatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(query.MetricDataQueries?.map((q) => `${q.MetricStat?.Metric?.MetricName}/${q.MetricStat?.Stat}/${q.MetricStat?.Metric?.Dimensions?.map((d) => d.Value).join(',')}`)).toEqual([
      'StorageBytes/Average/fs-my-stack,Total',
      'TotalIOBytes/Sum/fs-my-stack',
    ]);
    expect(aws.scripts).toHaveLength(1);
  });

  it('--json: one document; CloudWatch refusing is reported in it, the host metrics still shown', async () => {
    cloudWatch.on(GetMetricDataCommand).rejects(awsError('AccessDenied', 'User is not authorized to perform: cloudwatch:GetMetricData'));
    const result = await runWith({ clients: aws.clients() }, 'metrics', 'my-stack', '--json');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.host.services.map((s: { service: string }) => s.service)).toEqual(['n8n', 'postgres']);
    expect(doc.fileSystem).toEqual({ fileSystemId: 'fs-my-stack', error: 'access denied: User is not authorized to perform: cloudwatch:GetMetricData' });
  });

  it('--watch --json: NDJSON, one line per round, until Ctrl-C (exit 0)', async () => {
    const harness = new Harness({
      clients: aws.clients(),
      onSleep: (ms, h) => {
        if (ms === 10_000 && h.sleeps.filter((s) => s === 10_000).length === 2) h.abort();
      },
    });
    const result = await harness.run('metrics', 'my-stack', '--watch', '--json');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l).instanceId)).toEqual(['i-1', 'i-1']);
  });

  it('a deployment without a running host: one line, exit 1', async () => {
    aws.addDeployment({ name: 'parked', host: null });
    const result = await runWith({ clients: aws.clients() }, 'metrics', 'parked');
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^gm-ops: deployment "parked" has no running host \(no instance in the auto scaling group\)/);
  });
});

describe('the host metrics script under sh', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-metrics-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints what the parser reads (stub sleep and docker; the real /proc and df)', () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'sleep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    fs.writeFileSync(
      path.join(bin, 'docker'),
      ['#!/bin/sh', 'case "$1" in', '  ps) if [ "$2" = -q ]; then echo abc; else printf "%s\\n" "$3" | sed -e "s/{{.ID}}/abc/" -e "s/{{.Label \\"com.docker.compose.service\\"}}/n8n/"; fi ;;', '  stats) printf "%s\\n" "$4" | sed -e "s/{{.ID}}/abc/" -e "s/{{.CPUPerc}}/1.50%/" -e "s|{{.MemUsage}}|10MiB / 1GiB|" -e "s/{{.MemPerc}}/0.98%/" ;;', 'esac'].join('\n'),
      { mode: 0o755 },
    );
    const token = 'abcdef12';
    const stdout = execFileSync('sh', ['-c', hostMetricsScript(token)], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
    const metrics = parseHostMetrics(stdout, token);
    expect(metrics.memoryTotalBytes).toBeGreaterThan(0);
    expect(metrics.memoryUsedBytes).toBeGreaterThan(0);
    expect(metrics.disks.map((d) => d.mount)).toContain('/');
    expect(metrics.services).toEqual([{ service: 'n8n', cpuPercent: 1.5, memory: '10MiB / 1GiB', memoryPercent: 0.98 }]);
  });
});
