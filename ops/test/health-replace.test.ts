/** `health --watch --replace-on-critical`: the host of a deployment failing 3 rounds in a row is replaced, after confirmation. */
import { SetInstanceHealthCommand } from '@aws-sdk/client-auto-scaling';
import type { Prompt } from '../src/context';
import { FakeAws } from './helpers/fake-aws';
import { Harness } from './helpers/harness';
import { healthyHost, StubHost } from './helpers/stub-host';

let aws: FakeAws;
let hosts: StubHost[];
beforeEach(() => {
  aws = new FakeAws();
  hosts = [];
  aws.asg.on(SetInstanceHealthCommand).resolves({});
});
afterEach(() => {
  aws.restore();
  for (const host of hosts) host.cleanup();
});

function failingQdrant(instanceId: string): void {
  const state = healthyHost();
  state.inspect!['c-qdrant'].status = 'exited';
  const host = new StubHost(state);
  hosts.push(host);
  aws.hosts.set(instanceId, (script) => host.run(script));
}

/** Aborts after `rounds` rounds (the watch sleeps once per round). */
function watching(rounds: number, prompt?: Prompt): Harness {
  return new Harness({
    clients: aws.clients(),
    prompt,
    onSleep: (ms, h) => {
      if (ms >= 1000 && h.sleeps.filter((s) => s >= 1000).length >= rounds) h.abort();
    },
  });
}

const confirming = (answer: boolean, asked: string[]): Prompt => ({
  available: true,
  confirm: async (question) => {
    asked.push(question);
    return answer;
  },
});

const replacements = () => aws.asg.commandCalls(SetInstanceHealthCommand).map((c) => c.args[0].input);

describe('gm-ops health --watch --replace-on-critical', () => {
  it('asks once the failure is CRITICAL (3rd round), then marks the host Unhealthy', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-bad' } });
    failingQdrant('i-bad');
    const asked: string[] = [];
    const result = await watching(4, confirming(true, asked)).run('health', 'my-stack', '--watch', '--interval', '10s', '--replace-on-critical');
    expect(asked).toEqual(['Replace host i-bad of my-stack (qdrant failed 3 checks in a row)?']);
    expect(replacements()).toEqual([{ InstanceId: 'i-bad', HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }]);
    expect(result.stderr).toContain('my-stack: host i-bad marked Unhealthy (qdrant failed 3 checks in a row): its auto scaling group replaces it');
  });

  it('not confirmed: nothing is replaced', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-bad' } });
    failingQdrant('i-bad');
    await watching(4, confirming(false, [])).run('health', 'my-stack', '--watch', '--replace-on-critical');
    expect(replacements()).toEqual([]);
  });

  it('an SSM agent that lost its connection is no evidence: never replaced', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-lost', agent: 'ConnectionLost' } });
    await watching(5).run('health', 'my-stack', '--watch', '--replace-on-critical', '--yes');
    expect(replacements()).toEqual([]);
  });

  it('without a terminal and without --yes: refused before anything runs (exit 2)', async () => {
    const result = await new Harness({ clients: aws.clients() }).run('health', 'my-stack', '--watch', '--replace-on-critical');
    expect(result).toMatchObject({ code: 2, stderr: 'gm-ops: --replace-on-critical asks before replacing a host: run it at a terminal, or pass --yes — see `gm-ops health --help`\n' });
  });
});
