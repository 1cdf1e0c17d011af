/**
 * Drift on the host, read in one SSM command: each running container's image against the image the
 * deployed compose file pins for its service, and each container's compose config hash (the
 * `com.docker.compose.config-hash` label) against `docker compose config --hash '*'` of the deployed
 * configuration, computed by the runtime's own compose wrapper (lib.sh's gm_compose).
 */
import { HOST_PATHS } from '../contract';
import { markerOf, shellQuote } from '../host/shell';

export type ContainerDriftState = 'in sync' | 'image drift' | 'config drift' | 'not running' | 'not in compose file';

export interface ContainerDrift {
  readonly service: string;
  readonly state: ContainerDriftState;
  readonly runningImage?: string;
  readonly pinnedImage?: string;
}

export interface HostDriftReport {
  readonly dockerAvailable: boolean;
  readonly composeFile: boolean;
  /** False when the expected config hashes could not be computed on the host. */
  readonly hashesChecked: boolean;
  readonly containers: readonly ContainerDrift[];
}

export function hostDriftScript(token: string, runtimeDir: string = HOST_PATHS.runtimeDir): string {
  const marker = markerOf(token);
  const dir = shellQuote(runtimeDir);
  const inspect = `${marker} running\t{{index .Config.Labels "com.docker.compose.service"}}\t{{.Config.Image}}\t{{index .Config.Labels "com.docker.compose.config-hash"}}`;
  // The service keys of our compose file sit two spaces in under `services:`, their image four.
  const pinned = `/^services:/{s=1;next} s&&/^[^ #]/{s=0} s&&/^  [a-z0-9_-]+:[ ]*$/{svc=$1;sub(":","",svc);next} s&&svc!=""&&/^    image:/{img=$2;gsub(/["']/,"",img);print m " pinned\\t" svc "\\t" img}`;
  return [
    `dir=${dir}`,
    `if ! docker ps -q >/dev/null 2>&1; then echo ${shellQuote(`${marker} docker-unavailable`)}; else`,
    `  ids=$(docker ps -q --filter 'label=com.docker.compose.project=geusemaker')`,
    `  if [ -n "$ids" ]; then docker inspect --format ${shellQuote(inspect)} $ids 2>/dev/null; fi`,
    `  if [ -r "$dir/compose.yml" ]; then`,
    `    awk -v m=${shellQuote(marker)} ${shellQuote(pinned)} "$dir/compose.yml"`,
    `    if hashes=$(bash -c '. "$1/host/lib.sh" && gm_init drift >/dev/null 2>&1 && gm_export_compose_env && gm_compose config --hash "*"' gm-ops-drift "$dir" 2>/dev/null); then`,
    `      printf '%s\\n' "$hashes" | while read -r svc hash; do [ -n "$svc" ] && printf '%s expected-hash\\t%s\\t%s\\n' ${shellQuote(marker)} "$svc" "$hash"; done`,
    `    else echo ${shellQuote(`${marker} hash-unavailable`)}; fi`,
    `  else echo ${shellQuote(`${marker} no-compose-file`)}; fi`,
    `fi`,
    `echo ${shellQuote(`${marker} end`)}`,
  ].join('\n');
}

export function parseHostDrift(stdout: string, token: string): HostDriftReport {
  const marker = markerOf(token);
  const running = new Map<string, { image: string; hash: string }>();
  const pinned = new Map<string, string>();
  const expected = new Map<string, string>();
  let dockerAvailable = true;
  let composeFile = true;
  let hashesChecked = true;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${marker} `)) continue;
    const [kind, ...fields] = line.slice(marker.length + 1).split('\t');
    if (kind === 'docker-unavailable') dockerAvailable = false;
    else if (kind === 'no-compose-file') composeFile = false;
    else if (kind === 'hash-unavailable') hashesChecked = false;
    else if (kind === 'running' && fields[0]) running.set(fields[0], { image: fields[1] ?? '', hash: fields[2] ?? '' });
    else if (kind === 'pinned' && fields[0]) pinned.set(fields[0], fields[1] ?? '');
    else if (kind === 'expected-hash' && fields[0]) expected.set(fields[0], fields[1] ?? '');
  }
  if (expected.size === 0) hashesChecked = false;
  const services = [...new Set([...pinned.keys(), ...running.keys()])].sort();
  const containers = services.map((service): ContainerDrift => {
    const container = running.get(service);
    const pin = pinned.get(service);
    if (!container) return { service, state: 'not running', pinnedImage: pin };
    if (pin === undefined) return { service, state: 'not in compose file', runningImage: container.image };
    if (container.image !== pin) return { service, state: 'image drift', runningImage: container.image, pinnedImage: pin };
    const hash = expected.get(service);
    if (hashesChecked && hash !== undefined && container.hash !== hash) return { service, state: 'config drift', runningImage: container.image, pinnedImage: pin };
    return { service, state: 'in sync', runningImage: container.image, pinnedImage: pin };
  });
  return { dockerAvailable, composeFile, hashesChecked, containers };
}
