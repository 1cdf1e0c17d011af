#!/usr/bin/env bash
# Stands in for docker/host/functional-check.sh (contract 3) in gm-ops tests: same arguments, same
# output and exit codes, answers from $FAKE_DOCKER_STATE's "functional" entry (see functional-check.js).
exec node "$(dirname "${BASH_SOURCE[0]}")/functional-check.js" "$@"
