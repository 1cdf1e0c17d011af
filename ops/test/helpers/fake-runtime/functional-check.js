'use strict';
// The functional check's contract (team brief, contract 3): `functional-check.sh [--json] [--service NAME]...`
// checks postgres, n8n, qdrant, ollama, crawl4ai in that order (or the named ones); prints
// `<service> ok <detail>` / `<service> FAIL <reason>` per service, or with --json one object per line
// {"service","ok","ms","detail"}; exits 0 when all passed, 1 when any failed, 2 on bad usage/config.
// State: $FAKE_DOCKER_STATE .functional = { fail: {service: reason}, ms: {service: n}, raw: [lines] (printed
// instead of results), exit: n (forced), stderr: "text", config: "reason" (exit 2) }.
const fs = require('fs');
const state = JSON.parse(fs.readFileSync(process.env.FAKE_DOCKER_STATE, 'utf8')).functional || {};
const ORDER = ['postgres', 'n8n', 'qdrant', 'ollama', 'crawl4ai'];
const WORKS = {
  postgres: "n8n's database answers a query as user n8n",
  n8n: 'owner ops@example.com logged in (POST /rest/login 200); 3 pre-wired credentials listed',
  qdrant: 'scratch collection created, vector upserted and found, collection deleted; refused without the API key (401)',
  ollama: 'API 0.12.6 answers; 1 model listed (llama3.2:1b)',
  crawl4ai: 'crawled http://172.17.0.1:18080/ (4312 characters of markdown); refused without the token (401)',
};

const args = process.argv.slice(2);
let json = false;
const named = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--json') json = true;
  else if (args[i] === '--service' && ORDER.includes(args[i + 1])) named.push(args[(i += 1)]);
  else {
    process.stderr.write(`functional-check: unknown argument ${args[i]} (allowed: --json, --service ${ORDER.join('|')})\n`);
    process.exit(2);
  }
}
if (state.config) {
  process.stderr.write(`functional-check: ${state.config}\n`);
  process.exit(2);
}
if (state.stderr) process.stderr.write(`${state.stderr}\n`);
if (state.raw) {
  for (const line of state.raw) process.stdout.write(`${line}\n`);
  process.exit(state.exit ?? 0);
}
let failed = false;
for (const service of named.length ? ORDER.filter((s) => named.includes(s)) : ORDER) {
  const reason = (state.fail || {})[service];
  const ms = (state.ms || {})[service] ?? 40 + ORDER.indexOf(service) * 13;
  failed = failed || reason !== undefined;
  if (json) process.stdout.write(`${JSON.stringify({ service, ok: reason === undefined, ms, detail: reason ?? WORKS[service] })}\n`);
  else process.stdout.write(`${service} ${reason === undefined ? 'ok' : 'FAIL'} ${reason ?? WORKS[service]}\n`);
}
process.exit(state.exit ?? (failed ? 1 : 0));
