#!/usr/bin/env bash
# npm test: the type check runs beside the tests (it is single-threaded, the tests mostly wait on bash and synthesis).
# The CDK app's tests and gm-ops' tests run in one jest (each with its own config, `--projects`), so jest spreads both
# over every core and starts the slowest suites first; arguments go to that jest (`npm test -- ops/test/cost` runs the
# matching suites of either). Fails if the type check or any test fails; each prints its own errors.
set -uo pipefail
cd "$(dirname "$0")/.."
# A larger young generation: synthesizing CDK apps allocates a lot, and with Node's default semi-space the test
# processes spend a measurable share of their time in scavenges (about a tenth of the run, measured here).
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-semi-space-size=64"
npm run --silent typecheck &
typecheck=$!
# Jest's workers (one a core) inherit the flag: V8's parallel garbage collection threads only compete with the other
# worker for the same cores (about 4 % less CPU time without them, measured here).
# --projects last: it takes every word after it as a project.
node --single-threaded-gc node_modules/jest/bin/jest.js "$@" --projects . ops
tests=$?
wait "$typecheck"
types=$?
if ((types != 0)); then echo "npm test: the type check failed (above)" >&2; exit "$types"; fi
exit "$tests"
