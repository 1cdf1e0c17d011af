/**
 * One round of health probes over the targets: through SSM (one command per batch of hosts, all
 * probes of a host in it), or directly from here (--direct) to the tier's entry point.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SERVICES } from '../contract';
import type { Clock, Sleep } from '../context';
import { entryOf } from '../discovery/endpoints';
import { OpsError } from '../errors';
import { probeHttp, probeTcp, type DirectProbeOptions } from './direct-probes';
import type { ProbeResult } from './levels';
import type { HealthTarget } from './targets';

const N8N_HEALTH_PATH = (SERVICES.find((s) => s.name === 'n8n')!.health as { path: string }).path;

export interface DeploymentHealth {
  readonly name: string;
  readonly tier?: string;
  /** The host `--replace-on-critical` may replace. */
  readonly instanceId?: string;
  readonly results: ProbeResult[];
  /**
   * The services (rows) a replacement of that host can fix; undefined: every row (a single-host tier). A scale
   * deployment's AI host runs only the AI services: its n8n, database and queue are not on it.
   */
  readonly hostChecks?: readonly string[];
  /** Why the failures outside `hostChecks` are left alone by gm-ops (who replaces or repairs them instead). */
  readonly outsideHost?: string;
}

export interface ProbeRoundOptions {
  readonly timeoutMs: number;
  readonly monotonicMs: () => number;
}

export interface SsmRoundOptions extends ProbeRoundOptions {
  readonly ssm: SSMClient;
  readonly sleep: Sleep;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly randomId: () => string;
  /** Also run the host's functional check (`health --deep`). */
  readonly deep?: boolean;
}

/** The host row, or undefined when the host runs. */
function hostProblem(target: HealthTarget): ProbeResult | undefined {
  if (!target.compute) {
    return { service: 'deployment', check: 'stacks', outcome: 'down', detail: `no compute stack: the deployment has no host (data stack only; \`gm-ops restore ${target.name}\` redeploys it)` };
  }
  const lookup = target.lookup;
  if (!lookup) return { service: 'host', check: 'asg', outcome: 'down', detail: 'the stack has no AutoScalingGroupName output' };
  if (!lookup.groupExists) return { service: 'host', check: 'asg', outcome: 'down', detail: `auto scaling group ${lookup.autoScalingGroupName} not found` };
  const host = lookup.host;
  if (!host) return { service: 'host', check: 'asg', outcome: 'down', detail: 'no instance in the auto scaling group' };
  if (host.state !== 'running') return { service: 'host', check: 'ec2', outcome: 'down', detail: `${host.instanceId} is ${host.state}` };
  return undefined;
}

function hostRow(target: HealthTarget): ProbeResult {
  const host = target.lookup!.host!;
  return { service: 'host', check: 'ec2', outcome: 'up', detail: `${host.instanceId} running${host.market === 'spot' ? ' (spot)' : ''}` };
}

export async function probeDirectRound(targets: readonly HealthTarget[], options: ProbeRoundOptions): Promise<DeploymentHealth[]> {
  const probeOptions: DirectProbeOptions = { timeoutMs: options.timeoutMs, now: options.monotonicMs };
  return Promise.all(
    targets.map(async (target): Promise<DeploymentHealth> => {
      const problem = hostProblem(target);
      const base = { name: target.name, tier: target.tier, instanceId: target.lookup?.host?.instanceId };
      if (!target.compute) return { ...base, results: [problem!] };
      const results: ProbeResult[] = [problem ?? hostRow(target)];
      const entry = entryOf(target.compute, target.lookup?.host);
      if (!entry || entry.reach === 'port-forward') {
        results.push({
          service: 'n8n',
          check: `http ${N8N_HEALTH_PATH}`,
          outcome: 'unknown',
          detail: entry
            ? 'n8n is reached through SSM port forwarding only (no allowedCidrs); drop --direct to probe it through SSM'
            : 'no entry point in the stack outputs; drop --direct to probe it through SSM',
        });
      } else {
        const url = new URL(entry.value);
        const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
        const healthUrl = new URL(N8N_HEALTH_PATH.slice(1), entry.value.endsWith('/') ? entry.value : `${entry.value}/`).toString();
        const [tcp, httpProbe] = await Promise.all([
          probeTcp(url.hostname, port, probeOptions),
          probeHttp(healthUrl, { ...probeOptions, acceptSelfSigned: entry.selfSigned === true }),
        ]);
        results.push({
          service: 'entry',
          check: `tcp ${port}`,
          outcome: tcp.ok ? 'up' : 'down',
          latencyMs: tcp.latencyMs,
          detail: `${url.host}: ${tcp.detail}`,
        });
        results.push({
          service: 'n8n',
          check: `http ${N8N_HEALTH_PATH}`,
          outcome: httpProbe.ok ? 'up' : 'down',
          latencyMs: httpProbe.latencyMs,
          detail: `${httpProbe.detail} via ${entry.reach === 'cidrs' ? `the host public IP (${entry.note})` : 'the entry URL'}`,
        });
      }
      for (const service of SERVICES) {
        if (service.name === 'n8n') continue;
        results.push({
          service: service.name,
          check: service.health.kind === 'http' ? `http ${service.health.path}` : 'pg_isready',
          outcome: 'skipped',
          detail: 'not exposed (localhost on the host); drop --direct to probe it through SSM',
        });
      }
      return { ...base, results };
    }),
  );
}

export async function probeSsmRound(targets: readonly HealthTarget[], options: SsmRoundOptions): Promise<DeploymentHealth[]> {
  // Loaded here, not at the top: `--direct` must not pay for the SSM client and the script parsers
  // before its probes start (issue 13, bench).
  const { runScriptOnHosts, scriptFailure } = require('../aws/ssm-run') as typeof import('../aws/ssm-run');
  const { hostProbeScript, hostProbeSeconds, parseHostProbes } = require('./host-probes') as typeof import('./host-probes');
  const running = targets.filter((t) => !hostProblem(t)).map((t) => t.lookup!.host!.instanceId);
  const token = options.randomId();
  const deep = options.deep === true;
  const outputs = await runScriptOnHosts(options.ssm, running, hostProbeScript(token, options.timeoutMs, deep), {
    sleep: options.sleep,
    clock: options.clock,
    signal: options.signal,
    comment: deep ? 'gm-ops health --deep' : 'gm-ops health',
    executionTimeoutSeconds: hostProbeSeconds(options.timeoutMs, deep),
  });
  return targets.map((target): DeploymentHealth => {
    const base = { name: target.name, tier: target.tier, instanceId: target.lookup?.host?.instanceId };
    const problem = hostProblem(target);
    if (problem) return { ...base, results: [problem] };
    const result = outputs.get(base.instanceId!);
    if (!result || result instanceof OpsError) {
      // The probes did not run (agent offline or lost for a moment, no answer in time, an AWS call
      // failed): no evidence either way about the services.
      return { ...base, results: [{ service: 'host', check: 'ssm', outcome: 'unknown', detail: result ? result.message : 'no result' }] };
    }
    const failed = scriptFailure(result, token);
    if (failed) return { ...base, results: [{ service: 'host', check: 'ssm', outcome: 'down', detail: failed.message }] };
    const output = result;
    return { ...base, results: [hostRow(target), ...parseHostProbes(output.stdout, token, options.timeoutMs, deep)] };
  });
}
