#!/usr/bin/env bash
# Stand-in for docker/host/expose-n8n.sh in the bootstrap tests: records the call (and the bootstrap
# step it came from), prints $STUB_STATE/expose, exits with expose.exit (default 0).
set -u
# shellcheck source=/dev/null
source "$STUB_COMMON"
record "expose-n8n $* (step ${GM_BOOTSTRAP_STEP:-none})"
answer expose
exit $?
