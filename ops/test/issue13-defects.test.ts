/** Issue 13: a test per defect fixed in the CLI core, health and the container report. */
import { Writable } from 'node:stream';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { createSpinner, stopAllSpinners } from '../src/output/spinner';
import { describeDockerHealth, parseContainers } from '../src/host/containers';
import { awsError, FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';
import { healthyHost, StubHost } from './helpers/stub-host';

const ESC = '\u001b[';

describe('defect 1: Ctrl-C clears the spinner line', () => {
  class FakeTerminal extends Writable {
    text = '';
    isTTY = true;
    _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
      this.text += chunk.toString();
      callback();
    }
    clearLine() {
      this.text += '<clear-line>';
      return true;
    }
    cursorTo() {
      this.text += '<column-0>';
      return true;
    }
    moveCursor() {
      return true;
    }
  }

  it('stopAllSpinners clears the line of every spinner on screen and shows the cursor again', () => {
    const stream = new FakeTerminal();
    createSpinner(stream, { color: false, interactive: true, redraw: false }, false).start('Waiting for AWS');
    stream.text = '';
    stopAllSpinners();
    expect(stream.text).toContain('<clear-line><column-0>');
    expect(stream.text).toContain(`${ESC}?25h`);
  });
});

describe('defect 3: a value starting with a minus is rejected as a value', () => {
  it('--since -5m names the bad duration (exit 2)', async () => {
    const result = await runWith({}, 'logs', 'my-stack', '--since', '-5m');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gm-ops: Invalid value for --since: got "-5m"; use a duration like 30s/);
  });

  it('--tail -1 names the bad count (exit 2)', async () => {
    const result = await runWith({}, 'logs', 'my-stack', '--tail', '-1');
    expect(result).toMatchObject({
      code: 2,
      stderr: 'gm-ops: Invalid value for --tail: expected a whole number of lines from 0 to 100000 (got "-1") — see `gm-ops logs --help`\n',
    });
  });
});

describe("defect 4: the error line's colour follows stderr, not stdout", () => {
  it('stdout a terminal, stderr redirected to a file: no escape codes in the error', async () => {
    const result = await runWith({ terminal: { color: true, errorColor: false } }, 'logs', 'my-stack', '--tail', 'lots');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gm-ops: Invalid value for --tail/);
    expect(result.stderr).not.toContain(ESC);
  });

  it('stdout piped, stderr a terminal: the error is coloured', async () => {
    const result = await runWith({ terminal: { color: false, errorColor: true } }, 'logs', 'my-stack', '--tail', 'lots');
    expect(result.stderr.startsWith(`${ESC}31mgm-ops:`)).toBe(true);
  });
});

describe('defect 6: an unrecognised DescribeInstanceInformation error does not abort health', () => {
  let aws: FakeAws;
  beforeEach(() => {
    aws = new FakeAws();
  });
  afterEach(() => aws.restore());

  it('every deployment is still reported; the hosts are UNKNOWN, exit 1', async () => {
    aws.addDeployment({ name: 'alpha', host: { id: 'i-alpha' } });
    aws.addDeployment({ name: 'beta', host: { id: 'i-beta', state: 'stopped' } });
    aws.ssm.on(DescribeInstanceInformationCommand).rejects(Object.assign(awsError('InternalServerError', 'We encountered an internal error'), { $fault: 'server' }));
    const result = await runWith({ clients: aws.clients() }, 'health');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/alpha\s+host\s+ssm\s+UNKNOWN\s+-\s+the state of host i-alpha is unknown: cannot read its SSM agent state/);
    expect(result.stdout).toMatch(/beta\s+host\s+ec2\s+FAIL\s+-\s+i-beta is stopped/);
  });

  it('a SendCommand refused for the batch is retried host by host: the others still answer', async () => {
    aws.addDeployment({ name: 'alpha', host: { id: 'i-alpha' } });
    aws.addDeployment({ name: 'beta', host: { id: 'i-beta' } });
    const hosts = [new StubHost(healthyHost()), new StubHost(healthyHost())];
    aws.hosts.set('i-alpha', (script) => hosts[0].run(script));
    aws.hosts.set('i-beta', (script) => hosts[1].run(script));
    aws.failNext.set('SendCommand', [awsError('InvalidInstanceId', 'Instances not in a valid state for account')]);
    try {
      const result = await runWith({ clients: aws.clients() }, 'health', '--json');
      const doc = JSON.parse(result.stdout);
      expect(doc.services.filter((s: { service: string; state: string }) => s.service === 'n8n').map((s: { state: string }) => s.state)).toEqual(['OK', 'OK']);
      expect(result.code).toBe(0);
    } finally {
      for (const host of hosts) host.cleanup();
    }
  });
});

describe('defect 7: a container that does not exist has no health to describe', () => {
  it('parseContainers: a missing container is "missing", never "no healthcheck configured"', () => {
    const token = 'abc123';
    const report = parseContainers(containerLines(token, ALL_RUNNING.filter((c) => c.service !== 'qdrant')), token);
    const qdrant = report.containers.find((c) => c.service === 'qdrant')!;
    expect(qdrant).toEqual({ service: 'qdrant', state: 'missing', health: 'missing', restarts: 0 });
    expect(describeDockerHealth(qdrant.health)).toBe('no container');
  });

  it('status shows no "no healthcheck configured" for a missing container', async () => {
    const aws = new FakeAws();
    try {
      aws.addDeployment({ name: 'my-stack', host: { id: 'i-0abc' } });
      aws.hosts.set('i-0abc', (script) => containerLines(tokenOf(script), ALL_RUNNING.filter((c) => c.service !== 'ollama')));
      const result = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
      const ollama = result.stdout.split('\n').find((line) => /^\s+ollama\s/.test(line)) ?? '';
      expect(ollama).toMatch(/ollama\s+missing/);
      expect(ollama).not.toContain('no healthcheck configured');
    } finally {
      aws.restore();
    }
  });
});

describe('defect 8: help', () => {
  it('`gm-ops help` prints the commands, exit 0', async () => {
    const result = await runWith({}, 'help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('gm-ops logs');
    expect(result.stderr).toBe('');
  });

  it('`gm-ops help logs` is `gm-ops logs --help`', async () => {
    const result = await runWith({}, 'help', 'logs');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('$ gm-ops logs <name>');
  });

  it('option values are named, never #0', async () => {
    const overview = await runWith({}, '--help');
    const logs = await runWith({}, 'logs', '--help');
    expect(overview.stdout).not.toContain('#0');
    expect(logs.stdout).not.toContain('#0');
    expect(logs.stdout).toMatch(/--since <duration\|time>\s+Only lines since/);
    expect(logs.stdout).toMatch(/-s,--service <service>/);
  });

  it('the health usage line names what the list is', async () => {
    const result = await runWith({}, 'health', '--help');
    expect(result.stdout).toContain('$ gm-ops health [<name>...]');
    expect(result.stdout).not.toMatch(/gm-ops health \.\.\./);
  });
});

describe('defect 11: the --direct probe path starts without the SSM client', () => {
  it('loading the probe round loads neither @aws-sdk/client-ssm nor the script parsers (zod)', () => {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const path = require('node:path') as typeof import('node:path');
    const round = path.join(__dirname, '..', 'dist', 'health', 'probe-round.js');
    const loaded: string[] = JSON.parse(
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(round)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`], { encoding: 'utf8' }),
    );
    expect(loaded.filter((file) => file.includes(`client-ssm${path.sep}`) || file.includes(`${path.sep}zod${path.sep}`))).toEqual([]);
  });
});
