#!/usr/bin/env bash
# Stand-in for docker/host/functional-check.sh in the bootstrap tests: prints $STUB_STATE/functional-check
# (default: every service ok) and exits with functional-check.exit (default 0).
set -u
# shellcheck source=/dev/null
source "$STUB_COMMON"
record "functional-check $* (step ${GM_BOOTSTRAP_STEP:-none})"
if [[ ! -f "$S/functional-check" ]]; then
  printf '%s ok answered\n' postgres n8n qdrant ollama crawl4ai >"$S/functional-check"
fi
answer functional-check
exit $?
