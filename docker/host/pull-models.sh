#!/usr/bin/env bash
# Pull the configured Ollama models ($GM_MODELS, space-separated, default "llama3.2:1b") once the
# stack is up. Models live on EFS (/root/.ollama in the ollama container), so a model already
# present -- pulled by this host or an earlier one -- is skipped, and an interrupted pull resumes
# where it stopped (ollama keeps the partial blobs). Run in the background by
# geusemaker-models.service after geusemaker.service.
#
# Exit codes: 0 every model present; 1 some model could not be pulled (named) or Ollama never
# answered; 2 bad model name.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# normalize NAME: ollama's canonical "name:tag" ("llama3.2" is "llama3.2:latest").
normalize() {
  local name=$1
  if [[ "${name##*/}" != *:* ]]; then
    name="$name:latest"
  fi
  printf '%s' "$name"
}

# wait_for_ollama: prints `ollama list` once the server answers (bounded).
wait_for_ollama() {
  local attempt out
  for ((attempt = 1; ; attempt++)); do
    if out=$(gm_compose exec -T ollama ollama list 2>&1); then
      printf '%s\n' "$out"
      return 0
    fi
    if ((attempt >= GM_OLLAMA_WAIT_ATTEMPTS)); then
      gm_error "pull-models: Ollama did not answer after $attempt attempts: ${out//$'\n'/ }"
      return 1
    fi
    gm_info "pull-models: waiting for Ollama (attempt $attempt/$GM_OLLAMA_WAIT_ATTEMPTS)"
    sleep "$GM_OLLAMA_WAIT_INTERVAL"
  done
}

pull_model() {
  local model=$1 attempt
  for ((attempt = 1; ; attempt++)); do
    gm_info "pull-models: pulling $model (attempt $attempt/$GM_MODEL_PULL_ATTEMPTS)"
    if gm_compose exec -T ollama ollama pull "$model" 2>&1 | gm_log_lines INFO "ollama:"; then
      gm_info "pull-models: $model pulled"
      return 0
    fi
    if ((attempt >= GM_MODEL_PULL_ATTEMPTS)); then
      gm_error "pull-models: $model could not be pulled after $attempt attempts"
      return 1
    fi
    gm_warn "pull-models: pull of $model failed; retrying (the download resumes)"
    sleep "$GM_MODEL_RETRY_SECONDS"
  done
}

main() {
  gm_init pull-models
  gm_validate_settings
  gm_export_compose_env
  : "${GM_MODEL_PULL_ATTEMPTS:=3}"
  : "${GM_MODEL_RETRY_SECONDS:=30}"
  : "${GM_OLLAMA_WAIT_ATTEMPTS:=60}"
  : "${GM_OLLAMA_WAIT_INTERVAL:=10}"
  local n
  for n in GM_MODEL_PULL_ATTEMPTS GM_MODEL_RETRY_SECONDS GM_OLLAMA_WAIT_ATTEMPTS GM_OLLAMA_WAIT_INTERVAL; do
    gm_require_uint "$n"
  done

  local -a models=()
  local model
  read -r -a models <<<"$GM_MODELS"
  for model in "${models[@]}"; do
    [[ "$model" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*(:[A-Za-z0-9._-]+)?$ ]] ||
      gm_die 2 "pull-models: '$model' in GM_MODELS is not an Ollama model name"
  done
  if ((${#models[@]} == 0)); then
    gm_info "pull-models: GM_MODELS is empty, nothing to pull"
    return 0
  fi

  local listing name
  local -A present=()
  listing=$(wait_for_ollama) || return 1
  while read -r name _; do
    [[ -n "$name" && "$name" != NAME ]] || continue
    present[$(normalize "$name")]=1
  done <<<"$listing"

  local failed=()
  for model in "${models[@]}"; do
    if [[ -n "${present[$(normalize "$model")]:-}" ]]; then
      gm_info "pull-models: $model already present on EFS, skipping"
      continue
    fi
    pull_model "$model" || failed+=("$model")
  done
  if ((${#failed[@]} > 0)); then
    gm_error "pull-models: FAILED for ${failed[*]}"
    return 1
  fi
  gm_info "pull-models: every model is present: ${models[*]}"
}

main "$@"
