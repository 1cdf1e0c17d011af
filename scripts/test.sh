#!/usr/bin/env bash
# npm test: the type check runs beside the CDK tests (it is single-threaded, the tests mostly wait on bash and
# synthesis), then gm-ops' tests. Fails if any of the three fails; each prints its own errors.
set -uo pipefail
cd "$(dirname "$0")/.."
# A larger young generation: synthesizing CDK apps allocates a lot, and with Node's default semi-space the test
# processes spend a measurable share of their time in scavenges (about a tenth of the run, measured here).
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-semi-space-size=64"
npm run --silent typecheck &
typecheck=$!
npx jest "$@"
cdk=$?
wait "$typecheck"
types=$?
if ((types != 0)); then echo "npm test: the type check failed (above)" >&2; exit "$types"; fi
if ((cdk != 0)); then exit "$cdk"; fi
npm test --silent --workspace ops
