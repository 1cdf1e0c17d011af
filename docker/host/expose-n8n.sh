#!/usr/bin/env bash
# Publish n8n on GM_N8N_BIND, once its owner exists. start.sh always publishes n8n on 127.0.0.1 first, so
# that nobody beyond this host can claim a fresh n8n; the bootstrap runs this script after it set up the
# owner (`bash $GM_RUNTIME_DIR/host/expose-n8n.sh`), and start.sh does the same at its end on later boots.
#
# Checks GET /rest/settings on the local n8n ("showSetupOnFirstLoad":false), recreates the n8n container
# alone with its port on GM_N8N_BIND, and waits until n8n is ready again.
#
# Exit codes: 0 exposed, already exposed, or nothing to do (GM_N8N_BIND is 127.0.0.1); 1 the owner does not
# exist, this host does not run the stack, or n8n did not come back ready; 2 bad configuration.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  gm_init expose-n8n
  gm_validate_settings
  if gm_ai_role; then
    gm_info "expose n8n: this is the scale tier's AI host, which runs no n8n (n8n runs on ECS behind CloudFront)"
    return 0
  fi
  if [[ "$GM_N8N_BIND" == 127.0.0.1 ]]; then
    gm_info "expose n8n: GM_N8N_BIND is 127.0.0.1, n8n stays on this host's loopback"
    return 0
  fi
  gm_require_secrets
  if ! gm_fence_holder_pid >/dev/null; then
    gm_die 1 "expose n8n: this host does not hold the fence, so it does not run the stack (run start.sh first)"
  fi
  gm_export_compose_env
  gm_n8n_expose || exit 1
}

main "$@"
