/**
 * Container state and Docker health of the runtime's services, read on the host with one
 * `docker ps`/`docker inspect` pass; shared by `status` and `health`.
 */
import { z } from 'zod';
import { SERVICES } from '../contract';
import { COMPOSE_SERVICE_LABEL, markerOf } from './shell';

export interface ContainerState {
  readonly service: string;
  /** created, running, restarting, exited, paused, dead; or "missing" when no container exists. */
  readonly state: string;
  /** healthy, unhealthy, starting, "none" when the image/compose file configures no healthcheck, "missing" with no container. */
  readonly health: string;
  readonly restarts: number;
  readonly startedAt?: string;
  readonly image?: string;
}

const INSPECT_FORMAT = [
  `{{index .Config.Labels "${COMPOSE_SERVICE_LABEL}"}}`,
  '{{.State.Status}}',
  '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}',
  '{{.RestartCount}}',
  '{{.State.StartedAt}}',
  '{{.Config.Image}}',
].join('\t');

/** Script lines printing one `<marker> container <fields...>` line per compose container. */
export function containersScript(token: string): string {
  const marker = markerOf(token);
  return [
    `if ! docker ps -q >/dev/null 2>&1; then echo '${marker} docker-unavailable'; else`,
    `  ids=$(docker ps -aq --filter 'label=${COMPOSE_SERVICE_LABEL}')`,
    `  if [ -n "$ids" ]; then docker inspect --format '${marker} container\t${INSPECT_FORMAT}' $ids 2>/dev/null; fi`,
    `fi`,
  ].join('\n');
}

const containerLine = z.tuple([
  z.string().min(1),
  z.string().min(1),
  z.string().min(1),
  z.coerce.number().int().nonnegative(),
  z.string(),
  z.string(),
]);

export interface ContainersReport {
  /** False when the Docker daemon did not answer. */
  readonly dockerAvailable: boolean;
  /** One entry per contract service (missing ones included), then any other compose service. */
  readonly containers: ContainerState[];
}

const ZERO_TIME = /^0001-01-01/;

export function parseContainers(stdout: string, token: string): ContainersReport {
  const marker = markerOf(token);
  const found = new Map<string, ContainerState>();
  let dockerAvailable = true;
  for (const line of stdout.split('\n')) {
    if (line === `${marker} docker-unavailable`) dockerAvailable = false;
    if (!line.startsWith(`${marker} container\t`)) continue;
    const parsed = containerLine.safeParse(line.slice(`${marker} container\t`.length).split('\t'));
    if (!parsed.success) continue;
    const [service, state, health, restarts, startedAt, image] = parsed.data;
    const existing = found.get(service);
    // Several containers of one service (a recreate in progress): keep the running one.
    if (existing && existing.state === 'running') continue;
    found.set(service, {
      service,
      state,
      health,
      restarts,
      startedAt: startedAt && !ZERO_TIME.test(startedAt) ? startedAt : undefined,
      image: image || undefined,
    });
  }
  const containers: ContainerState[] = SERVICES.map(
    (s) => found.get(s.name) ?? { service: s.name, state: 'missing', health: 'missing', restarts: 0 },
  );
  for (const [service, state] of found) if (!SERVICES.some((s) => s.name === service)) containers.push(state);
  return { dockerAvailable, containers };
}

/** "healthy", "unhealthy", the honest "no healthcheck configured" (not "unknown"), or "no container". */
export function describeDockerHealth(health: string): string {
  if (health === 'missing') return 'no container';
  return health === 'none' ? 'no healthcheck configured' : health;
}
