#!/usr/bin/env node
'use strict';
/**
 * npm run bench (in ops/): prints figures, asserts nothing.
 *
 * 1. Cold start: `gm-ops --help` against a bare `node -e 0`, spawned alternately N times each in the
 *    same run (BENCH_RUNS, default 15); medians in ms.
 * 2. `health --direct` over 50 deployments, each with one hanging probe (an entry point that accepts
 *    and never answers), against the probe timeout — in-process, AWS mocked with aws-sdk-client-mock,
 *    real local servers on 127.0.0.1. Target: within 1.2 times the timeout.
 */
const { execFileSync, spawnSync } = require('child_process');
const http = require('http');
const path = require('path');
const { Writable } = require('stream');

const OPS = path.join(__dirname, '..');
const BIN = path.join(OPS, 'bin', 'gm-ops.js');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function build() {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [OPS] });
  execFileSync(process.execPath, [tsc, '-p', path.join(OPS, 'tsconfig.build.json')], { cwd: OPS, stdio: 'inherit' });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timeSpawn(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

function coldStart(runs) {
  const bare = [];
  const help = [];
  timeSpawn(['-e', '0']); // warm the file cache for both
  timeSpawn([BIN, '--help']);
  for (let i = 0; i < runs; i += 1) {
    bare.push(timeSpawn(['-e', '0']));
    help.push(timeSpawn([BIN, '--help']));
  }
  const bareMs = median(bare);
  const helpMs = median(help);
  console.log(`cold start (median of ${runs} spawns each)`);
  console.log(`  node -e 0            ${bareMs.toFixed(1)} ms`);
  console.log(`  gm-ops --help        ${helpMs.toFixed(1)} ms   (+${(helpMs - bareMs).toFixed(1)} ms over bare node)`);
}

function hangingServer() {
  return new Promise((resolve) => {
    const sockets = new Set();
    const server = http.createServer(() => {
      /* accept, never answer */
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => {
          for (const s of sockets) s.destroy();
          server.close(done);
        }),
      }),
    );
  });
}

function mockAws(deployments) {
  const { mockClient } = require('aws-sdk-client-mock');
  const cfn = require('@aws-sdk/client-cloudformation');
  const asg = require('@aws-sdk/client-auto-scaling');
  const ec2 = require('@aws-sdk/client-ec2');
  const stacks = [];
  for (const d of deployments) {
    stacks.push({
      StackName: `GeuseAutomation-${d.name}`,
      StackStatus: 'UPDATE_COMPLETE',
      Outputs: [
        { OutputKey: 'AutoScalingGroupName', OutputValue: `asg-${d.name}` },
        { OutputKey: 'EntryUrl', OutputValue: d.url },
      ],
    });
    stacks.push({ StackName: `GeuseData-${d.name}`, StackStatus: 'CREATE_COMPLETE', Outputs: [] });
  }
  // DescribeStacks pages of 100, like the API.
  mockClient(cfn.CloudFormationClient)
    .on(cfn.DescribeStacksCommand)
    .callsFake((input) => {
      const start = input.NextToken ? Number(input.NextToken) : 0;
      return { Stacks: stacks.slice(start, start + 100), NextToken: start + 100 < stacks.length ? String(start + 100) : undefined };
    });
  mockClient(asg.AutoScalingClient)
    .on(asg.DescribeAutoScalingGroupsCommand)
    .callsFake((input) => ({
      AutoScalingGroups: input.AutoScalingGroupNames.map((n) => ({
        AutoScalingGroupName: n,
        DesiredCapacity: 1,
        Instances: [{ InstanceId: `i-${n.slice(4)}`, LifecycleState: 'InService', HealthStatus: 'Healthy' }],
      })),
    }));
  mockClient(ec2.EC2Client)
    .on(ec2.DescribeInstancesCommand)
    .callsFake((input) => ({
      Reservations: [
        {
          Instances: input.Filters[0].Values.map((id) => ({
            InstanceId: id,
            State: { Name: 'running' },
            InstanceLifecycle: 'spot',
            Placement: { AvailabilityZone: 'eu-west-1a' },
          })),
        },
      ],
    }));
  const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' } };
  return {
    cloudFormation: new cfn.CloudFormationClient(config),
    autoScaling: new asg.AutoScalingClient(config),
    ec2: new ec2.EC2Client(config),
    get ssm() {
      throw new Error('--direct must not use SSM');
    },
    region: async () => 'eu-west-1',
  };
}

async function healthDirect(count, timeoutMs) {
  const { runCli, createRealServices } = require(path.join(OPS, 'dist', 'index.js'));
  const servers = await Promise.all(Array.from({ length: count }, () => hangingServer()));
  const clients = mockAws(servers.map((s, i) => ({ name: `bench-${String(i).padStart(2, '0')}`, url: s.url })));
  let stdout = '';
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      stdout += chunk;
      callback();
    },
  });
  const services = { ...createRealServices({}, new AbortController().signal), aws: () => clients };
  const context = { env: {}, stdin: process.stdin, stdout: sink, stderr: process.stderr, colorDepth: 1, services };
  const rssBefore = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  const code = await runCli(['health', '--direct', '--timeout', `${timeoutMs}ms`, '--json'], context);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const rssAfter = process.memoryUsage().rss;
  await Promise.all(servers.map((s) => s.close()));
  const doc = JSON.parse(stdout);
  const hanging = doc.services.filter((s) => s.service === 'n8n' && /no response within/.test(s.detail)).length;
  const ratio = ms / timeoutMs;
  console.log(`health --direct, ${count} deployments, one hanging probe each (timeout ${timeoutMs} ms)`);
  console.log(`  wall time            ${ms.toFixed(0)} ms   = ${ratio.toFixed(2)} x the timeout (target <= 1.20: ${ratio <= 1.2 ? 'met' : 'MISSED'})`);
  console.log(`  probes               ${doc.services.length} rows, ${hanging} hanging probes cut at the timeout, exit ${code}`);
  console.log(`  rss                  ${(rssBefore / 2 ** 20).toFixed(0)} MiB -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB`);
}

async function main() {
  build();
  if (!process.env.BENCH_SKIP_COLD) coldStart(Number(process.env.BENCH_RUNS || 15));
  await healthDirect(50, 1000);
  await healthDirect(50, 2000);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
