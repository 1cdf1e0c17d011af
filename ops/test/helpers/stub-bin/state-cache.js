#!/usr/bin/env node
'use strict';
// Flattens the stub state ($FAKE_DOCKER_STATE, see docker.js) into "$FAKE_DOCKER_STATE.bash" for the bash stubs
// (docker, curl): each answer they give is computed here with docker.js's or curl.js's own expression, so both
// versions answer alike. Whatever is not computed here (a state that is not JSON, a key the state only inherits, an
// unusual shape) the bash stubs leave to their node version. Run by the first stub call of a state, or ahead of the
// calls by the harness in its own process (writeStateCache), which saves that call a node start.
const fs = require('fs');

/** A bash word ($'...') holding exactly the UTF-8 bytes of `value` (a string or a Buffer). */
function quote(value) {
  let out = "$'";
  for (const byte of Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8')) {
    if (byte === 0x27 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte === 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(byte); // one latin1 character per byte: the file is written as latin1
  }
  return `${out}'`;
}
/** A plain object: its lookups are its own keys and Object.prototype's, nothing else. */
const plain = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const flag = (value) => (value ? '1' : "''");

/** Writes "<file>.bash" from the state in `file`; false (and nothing written) when the state is not JSON. */
function writeStateCache(file) {
  const bytes = fs.readFileSync(file);
  let state;
  try {
    state = JSON.parse(bytes.toString('utf8'));
  } catch {
    return false;
  }
  const lines = [
    `state_json=${quote(bytes)}`,
    `state_down=${flag(state.down)}`,
    `inherited_keys=(${Object.getOwnPropertyNames(Object.prototype).map(quote).join(' ')})`,
  ];

  // docker ps: every container id (docker.js joins them), and the id of each service (`id ? [id] : []`).
  const containers = state.containers || {};
  lines.push(`containers_plain=${flag(plain(containers))}`, 'declare -ga container_ids=()', 'declare -gA service_ids=()');
  if (plain(containers)) {
    lines.push(`container_ids=(${Object.values(containers).map((id) => quote([id].join(''))).join(' ')})`);
    for (const [service, id] of Object.entries(containers)) if (service !== '') lines.push(`service_ids[${quote(service)}]=${id ? quote([id].join('')) : "''"}`);
  }

  // docker inspect: the fields docker.js prints after the format's prefix, for each container it can describe.
  lines.push(`inspect_plain=${flag(plain(state.inspect))}`, 'declare -gA inspect_lines=()');
  if (plain(state.inspect)) {
    for (const [id, c] of Object.entries(state.inspect)) {
      if (c !== null && c !== undefined && id !== '') lines.push(`inspect_lines[${quote(id)}]=${quote([c.service, c.status, c.health, c.restarts, c.startedAt, c.image].join('\t'))}`);
    }
  }

  // docker exec: the database probe.
  const pg = state.pg || { exit: 0 };
  lines.push(`pg_hang=${flag(pg.hang)}`, `pg_line=${quote(`pg_isready exit ${pg.exit}\n`)}`);

  // curl: the answer of each URL the state names (curl.js: stdout, stderr, exit code); the others get the default one.
  const curl = state.curl || {};
  lines.push(`curl_plain=${flag(plain(curl))}`, 'declare -gA curl_out=() curl_err=() curl_exit=() curl_by_node=()');
  if (plain(curl)) {
    for (const [url, answer] of Object.entries(curl)) {
      if (!answer || url === '') continue; // the default answer (made by the stub); an empty key is left to curl.js
      const code = answer.exit || 0;
      if (!Number.isInteger(code) || code < 0 || code > 255) {
        lines.push(`curl_by_node[${quote(url)}]=1`);
        continue;
      }
      lines.push(
        `curl_out[${quote(url)}]=${quote(`${String(answer.code).padStart(3, '0')} ${answer.time}`)}`,
        `curl_err[${quote(url)}]=${quote(answer.exit ? `${answer.error || `curl: (${answer.exit}) error`}\n` : '')}`,
        `curl_exit[${quote(url)}]=${code}`,
      );
    }
  }

  const cache = `${file}.bash`;
  const partial = `${cache}.${process.pid}`;
  fs.writeFileSync(partial, `${lines.join('\n')}\n`, 'latin1');
  fs.renameSync(partial, cache);
  return true;
}

module.exports = { writeStateCache };
if (require.main === module) process.exit(writeStateCache(process.env.FAKE_DOCKER_STATE) ? 0 : 1);
