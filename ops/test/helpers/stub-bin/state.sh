# shellcheck shell=bash disable=SC2154 # stub_dir: set by the stub; the rest: by the state file
# Sourced by the bash stubs (docker, curl): the state ($FAKE_DOCKER_STATE, see docker.js) as bash variables, from
# "$FAKE_DOCKER_STATE.bash", which state-cache.js makes again whenever the state file holds something else.

# load_state: defines the state's variables; fails when they cannot be had (the stub then runs its node version).
load_state() {
  local json
  [[ -f "$FAKE_DOCKER_STATE" ]] || return 1
  IFS= read -r -d '' json <"$FAKE_DOCKER_STATE"
  if [[ -f "$FAKE_DOCKER_STATE.bash" ]]; then
    # shellcheck source=/dev/null
    source "$FAKE_DOCKER_STATE.bash" && [[ "$state_json" == "$json" ]] && return 0
  fi
  node "$stub_dir/state-cache.js" || return 1
  # shellcheck source=/dev/null
  source "$FAKE_DOCKER_STATE.bash" && [[ "$state_json" == "$json" ]]
}

# inherited KEY: whether a lookup of KEY in a JSON object of the state would find Object.prototype's member.
inherited() {
  local key
  for key in "${inherited_keys[@]}"; do [[ "$key" == "$1" ]] && return 0; done
  return 1
}
