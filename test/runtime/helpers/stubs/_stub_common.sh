# Shared by the stubs of test/runtime: call recording and answers from $STUB_STATE.
# The host-script suites call stubs thousands of times, so the hot paths here start no process: no command
# substitution, no cat, no flock (each costs a fork, most an exec too).
# shellcheck shell=bash
S="$STUB_STATE"
record() {
  printf '%s\n' "$*" >>"$STUB_LOG"
  if [[ -n "${STUB_EVENTS:-}" ]]; then printf '%s %s\n' "$STUB_HOST" "$*" >>"$STUB_EVENTS"; fi
}
# count_call KEY: sets n to the number of this call among the calls of KEY (1, 2, ...). Concurrent calls each
# get their own number: the n-th is the one that creates $S/.call.KEY.n (noclobber opens with O_EXCL).
count_call() {
  local clobber=+C
  [[ $- == *C* ]] && clobber=-C
  set -C
  n=1
  until { : >"$S/.call.$1.$n"; } 2>/dev/null; do
    [[ -e "$S/.call.$1.$n" ]] || { echo "stub: cannot count the calls of $1 in $S" >&2; break; }
    n=$((n + 1))
  done
  set "$clobber"
}
# next KEY: prints the number of this call among the calls of KEY (see count_call).
next() {
  local n
  count_call "$1"
  printf '%s' "$n"
}
# print_file FILE: prints FILE as it is.
print_file() {
  local content
  # read stops early only at a NUL byte (it then succeeds): such a file goes through cat.
  if IFS= read -r -d '' content <"$1"; then cat "$1"; else printf '%s' "$content"; fi
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
  local key=$1 n code
  hang "$key"
  count_call "$key"
  if [[ -f "$S/$key.$n" ]]; then print_file "$S/$key.$n"; elif [[ -f "$S/$key" ]]; then print_file "$S/$key"; fi
  if [[ -f "$S/$key.exit.$n" ]]; then
    IFS= read -r code <"$S/$key.exit.$n"
    return "$code"
  fi
  if [[ -f "$S/$key.exit" ]]; then
    IFS= read -r code <"$S/$key.exit"
    return "$code"
  fi
  return 0
}
