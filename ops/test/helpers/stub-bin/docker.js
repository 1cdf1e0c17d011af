#!/usr/bin/env node
'use strict';
// A stub of the docker CLI for running gm-ops host scripts under sh in tests. State (JSON) comes
// from $FAKE_DOCKER_STATE: { down, containers: {service: id}, logs: {id: ["<RFC3339Nano> msg"]},
// inspect: {id: {service,status,health,restarts,startedAt,image}}, pg: {exit} }.
const fs = require('fs');
process.stdout.on('error', () => process.exit(0)); // head -c closed the pipe
const state = JSON.parse(fs.readFileSync(process.env.FAKE_DOCKER_STATE, 'utf8'));
const args = process.argv.slice(2);
if (state.down) {
  process.stderr.write('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n');
  process.exit(1);
}
if (process.env.FAKE_DOCKER_CALLS) fs.appendFileSync(process.env.FAKE_DOCKER_CALLS, JSON.stringify(args) + '\n');

function nsOf(text) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (m) return BigInt(Date.parse(m[1] + 'Z')) * 1000000n + BigInt((m[2] || '').padEnd(9, '0') || '0');
  const rel = /^(\d+)s$/.exec(text);
  if (rel) return BigInt(Date.now()) * 1000000n - BigInt(rel[1]) * 1000000000n;
  process.stderr.write(`invalid time value ${text}\n`);
  process.exit(1);
}
function option(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const ids = Object.values(state.containers || {});

switch (args[0]) {
  case 'ps': {
    const filter = option('--filter');
    let out = ids;
    if (filter && filter.startsWith('label=com.docker.compose.service=')) {
      const id = (state.containers || {})[filter.slice('label=com.docker.compose.service='.length)];
      out = id ? [id] : [];
    }
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    break;
  }
  case 'inspect': {
    const format = option('--format');
    const prefix = format.slice(0, format.indexOf('{{'));
    for (const id of args.slice(3)) {
      const c = state.inspect[id];
      process.stdout.write(prefix + [c.service, c.status, c.health, c.restarts, c.startedAt, c.image].join('\t') + '\n');
    }
    break;
  }
  case 'logs': {
    const id = args[args.length - 1];
    let lines = (state.logs || {})[id];
    if (!lines) {
      process.stderr.write(`Error response from daemon: No such container: ${id}\n`);
      process.exit(1);
    }
    const tail = option('--tail');
    if (tail !== undefined) lines = tail === '0' ? [] : lines.slice(-Number(tail));
    const since = option('--since');
    const until = option('--until');
    const s = since !== undefined ? nsOf(since) : undefined;
    const u = until !== undefined ? nsOf(until) : undefined;
    const out = lines.filter((line) => {
      const ns = nsOf(line.slice(0, line.indexOf(' ')));
      return (s === undefined || ns >= s) && (u === undefined || ns <= u);
    });
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    break;
  }
  case 'exec': {
    const pg = state.pg || { exit: 0 };
    if (pg.hang) setTimeout(() => {}, 60000);
    else process.stdout.write(`pg_isready exit ${pg.exit}\n`);
    break;
  }
  default:
    process.stderr.write(`stub docker: unsupported ${args.join(' ')}\n`);
    process.exit(2);
}
