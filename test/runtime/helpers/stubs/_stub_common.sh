# Shared by the stubs of test/runtime: call recording and answers from $STUB_STATE.
# shellcheck shell=bash
S="$STUB_STATE"
record() {
  printf '%s\n' "$*" >>"$STUB_LOG"
  if [[ -n "${STUB_EVENTS:-}" ]]; then printf '%s %s\n' "$STUB_HOST" "$*" >>"$STUB_EVENTS"; fi
}
next() {
  local n=0
  exec {lock}>>"$S/.counter.lock"
  flock "$lock"
  [[ -f "$S/count.$1" ]] && n=$(<"$S/count.$1")
  n=$((n + 1))
  printf '%s\n' "$n" >"$S/count.$1"
  exec {lock}>&-
  printf '%s' "$n"
}
# hang KEY: when the test made KEY hang (file KEY.hang), block until killed, like a stuck call.
hang() {
  if [[ -f "$S/$1.hang" ]]; then exec "$STUB_REAL_SLEEP" 3600; fi
}
# advance_clock SECONDS: moves the fake clock ($STUB_CLOCK_FILE, epoch seconds) when the test uses one.
advance_clock() {
  [[ -n "${STUB_CLOCK_FILE:-}" ]] || return 0
  local lock now
  exec {lock}>>"$STUB_CLOCK_FILE.lock"
  flock "$lock"
  now=$(<"$STUB_CLOCK_FILE")
  printf '%s\n' "$((now + ${1%%.*}))" >"$STUB_CLOCK_FILE"
  exec {lock}>&-
}
# answer KEY: print the answer file of this call and return its exit code (or hang, see hang).
answer() {
  local key=$1 n
  hang "$key"
  n=$(next "$key")
  if [[ -f "$S/$key.$n" ]]; then cat "$S/$key.$n"; elif [[ -f "$S/$key" ]]; then cat "$S/$key"; fi
  if [[ -f "$S/$key.exit.$n" ]]; then return "$(<"$S/$key.exit.$n")"; fi
  if [[ -f "$S/$key.exit" ]]; then return "$(<"$S/$key.exit")"; fi
  return 0
}
