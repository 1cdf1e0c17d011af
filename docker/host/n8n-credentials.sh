#!/usr/bin/env bash
# Upsert n8n's credentials for Ollama (http://ollama:11434), Qdrant (http://qdrant:6333 + API key)
# and Crawl4AI (bearer token) from docker/n8n/credentials.json, rendered from the environment.
# start.sh does this on every start; this script is for running it by hand, e.g. in local mode:
#
#   GM_ENV_FILE=docker/.env bash docker/host/n8n-credentials.sh
#
# The ids are fixed, and `n8n import:credentials` upserts by id: running it again never duplicates.
# Exit codes: 0 imported; 1 import failed; 2 missing secret.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  gm_init n8n-credentials
  gm_validate_settings
  gm_export_compose_env
  local name
  for name in QDRANT_API_KEY CRAWL4AI_API_TOKEN; do
    [[ -n "${!name:-}" ]] || gm_die 2 "n8n credentials: $name is not set (GM_ENV_FILE=$GM_ENV_FILE)"
  done
  gm_n8n_import_credentials
}

main "$@"
