/** Building blocks for the POSIX sh scripts gm-ops runs on the host through SSM. */

/** Single-quotes a value for sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A marker that log lines cannot forge: it carries a random token chosen per command. */
export function markerOf(token: string): string {
  if (!/^[A-Za-z0-9]{6,64}$/.test(token)) throw new Error(`invalid marker token: ${token}`);
  return `@@gm-ops:${token}`;
}

/** The compose label that names a container's service (independent of the compose project name). */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

/** Sets `$id` to the newest container of a compose service (empty when there is none). */
export function findContainer(service: string): string {
  return `id=$(docker ps -aq --filter ${shellQuote(`label=${COMPOSE_SERVICE_LABEL}=${service}`)} 2>/dev/null | head -n 1)`;
}
