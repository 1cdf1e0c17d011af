#!/usr/bin/env bash
# Prove that each service of the stack does its real job, through its real interface, with this
# deployment's real secrets. Run by the bootstrap (step functional-check) before it signals success,
# and by `gm-ops health --deep` on a running host.
#
#   bash functional-check.sh [--json] [--service NAME]...
#
#   postgres  n8n's database answers a query as n8n's user, over TCP with a password the server
#             really asks for (require_auth=scram-sha-256), and holds n8n's migrations table
#   n8n       the owner logs in (POST /rest/login, once per run: the login is rate-limited) and
#             GET /rest/credentials lists the credentials of n8n/credentials.json for the owner
#   qdrant    with the API key: a scratch collection is created, a vector upserted and found by a
#             query, the collection deleted (always); without the key the API refuses
#   ollama    GET /api/tags answers with the list of models
#   crawl4ai  with the token, a crawl of a page rendered by Crawl4AI's browser returns its content;
#             without the token the same crawl is refused
#
# On the scale tier's AI host (GM_ROLE=ai-services) the checks are qdrant, ollama and crawl4ai: n8n and its database
# run on ECS and RDS. `--service n8n` there checks the scale tier's n8n from inside the VPC, through its load balancer
# (GM_N8N_CHECK_URL): the owner logs in and sees the credentials this host imported into RDS. It is never part of the
# default set, so the AI host's boot does not wait on n8n. Asking for postgres there is a usage error.
#
# stdout: one line per service, "<service> ok <detail>" or "<service> FAIL <reason>"; with --json
# one object per line: {"service":"n8n","ok":true,"ms":123,"detail":"..."}. Exit codes: 0 every
# checked service works; 1 one failed; 2 bad usage or configuration. Secrets travel through stdin
# (curl --config -) or the environment, never argv, and are never printed.
#
# Settings (host.env or environment): GM_N8N_LOCAL_URL (default http://127.0.0.1:5678, https with
# --cacert $GM_EFS_MOUNT/tls/n8n.crt when GM_N8N_TLS=self-signed), GM_QDRANT_URL, GM_OLLAMA_URL,
# GM_CRAWL4AI_URL, GM_N8N_OWNER_EMAIL, GM_CHECK_HTTP_TIMEOUT (s, per request), GM_CHECK_CRAWL_TIMEOUT;
# on the AI host GM_N8N_CHECK_URL (the scale tier's internal load balancer, http://<its DNS name>).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly FC_SERVICES=(postgres n8n qdrant ollama crawl4ai)
readonly FC_SECRET_NAMES=(POSTGRES_PASSWORD N8N_ENCRYPTION_KEY N8N_USER_MANAGEMENT_JWT_SECRET QDRANT_API_KEY
  CRAWL4AI_API_TOKEN N8N_OWNER_PASSWORD)

FC_JSON=false
FC_TMP=
FC_SEQ=0
FC_DETAIL=
FC_SESSION=
FC_FAILED=0

usage() {
  cat <<'EOF'
usage: functional-check.sh [--json] [--service NAME]...
  Checks postgres, n8n, qdrant, ollama and crawl4ai (or the named ones) with the deployment's secrets.
  --json          one JSON object per line instead of "<service> ok|FAIL <detail>"
  --service NAME  check only NAME (repeatable): postgres, n8n, qdrant, ollama, crawl4ai
exit codes: 0 all ok, 1 a check failed, 2 bad usage or configuration
EOF
}

usage_error() {
  printf 'functional-check: %s\n' "$*" >&2
  usage >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------

# fc_redact TEXT: TEXT with every secret value and the n8n session replaced by ***.
fc_redact() {
  local text=$1 name value
  for name in "${FC_SECRET_NAMES[@]}"; do
    value=${!name:-}
    [[ -n "$value" ]] && text=${text//"$value"/***}
  done
  [[ -n "$FC_SESSION" ]] && text=${text//"$FC_SESSION"/***}
  printf '%s' "$text"
}

# fc_one_line TEXT: TEXT redacted, on one line, at most 300 characters.
fc_one_line() {
  local text
  text=$(fc_redact "$1")
  text=${text//[[:cntrl:]]/ }
  while [[ "$text" == *"  "* ]]; do text=${text//  / }; done
  text=${text# }
  text=${text% }
  ((${#text} > 300)) && text="${text:0:297}..."
  printf '%s' "$text"
}

# fc_config_value VALUE: VALUE quoted for a curl config file, which escapes like a JSON string
# (curl's tool_parsecfg.c: a backslash escapes the next character).
fc_config_value() {
  local escaped
  escaped=$(gm_json_escape "$1") || return 1
  printf '"%s"' "$escaped"
}

# ---------------------------------------------------------------------------------------------
# Minimal JSON reading in bash (hosts have neither jq nor node). The functions share the text in
# _j and the position in _p (dynamic scope of the caller's locals).
# ---------------------------------------------------------------------------------------------

_fc_json_ws() {
  while [[ "${_j:_p:1}" == [[:space:]] ]]; do _p=$((_p + 1)); done
}

_fc_json_skip_string() {
  local re='^"([^"\\]|\\.)*"' rest
  [[ "${_j:_p:1}" == '"' ]] || return 1
  rest=${_j:_p}
  [[ "$rest" =~ $re ]] || return 1
  _p=$((_p + ${#BASH_REMATCH[0]}))
}

_fc_json_skip_value() {
  local c depth=0 rest re='^[^]["{}]+'
  _fc_json_ws
  c=${_j:_p:1}
  case "$c" in
    '"') _fc_json_skip_string ;;
    '{' | '[')
      while :; do
        c=${_j:_p:1}
        case "$c" in
          '"') _fc_json_skip_string || return 1 ;;
          '{' | '[') depth=$((depth + 1)) && _p=$((_p + 1)) ;;
          '}' | ']')
            depth=$((depth - 1))
            _p=$((_p + 1))
            ((depth == 0)) && return 0
            ;;
          '') return 1 ;;
          *)
            rest=${_j:_p:4096}
            [[ "$rest" =~ $re ]] || return 1
            _p=$((_p + ${#BASH_REMATCH[0]}))
            ;;
        esac
      done
      ;;
    *)
      rest=${_j:_p:64}
      [[ "$rest" =~ ^[-+.0-9A-Za-z]+ ]] || return 1
      _p=$((_p + ${#BASH_REMATCH[0]}))
      ;;
  esac
}

# fc_json_get JSON STEP...: the raw JSON text of the value at STEP... (object keys, or array indexes
# as whole numbers); fails when the path does not exist or the text is not JSON.
fc_json_get() {
  local _j=$1 _p=0 step start key k
  shift
  for step in "$@"; do
    _fc_json_ws
    case "${_j:_p:1}" in
      '{')
        _p=$((_p + 1))
        _fc_json_ws
        [[ "${_j:_p:1}" == '}' ]] && return 1
        while :; do
          _fc_json_ws
          start=$_p
          _fc_json_skip_string || return 1
          key=${_j:start+1:_p-start-2}
          _fc_json_ws
          [[ "${_j:_p:1}" == : ]] || return 1
          _p=$((_p + 1))
          [[ "$key" == "$step" ]] && break
          _fc_json_skip_value || return 1
          _fc_json_ws
          [[ "${_j:_p:1}" == , ]] || return 1
          _p=$((_p + 1))
        done
        ;;
      '[')
        [[ "$step" =~ ^[0-9]+$ ]] || return 1
        _p=$((_p + 1))
        _fc_json_ws
        [[ "${_j:_p:1}" == ']' ]] && return 1
        for ((k = 0; k < step; k++)); do
          _fc_json_skip_value || return 1
          _fc_json_ws
          [[ "${_j:_p:1}" == , ]] || return 1
          _p=$((_p + 1))
        done
        ;;
      *) return 1 ;;
    esac
  done
  _fc_json_ws
  start=$_p
  _fc_json_skip_value || return 1
  printf '%s' "${_j:start:_p-start}"
}

# fc_json_items JSON_ARRAY: each item's raw JSON text followed by a NUL byte.
fc_json_items() {
  local _j=$1 _p=0 start
  _fc_json_ws
  [[ "${_j:_p:1}" == '[' ]] || return 1
  _p=$((_p + 1))
  _fc_json_ws
  [[ "${_j:_p:1}" == ']' ]] && return 0
  while :; do
    _fc_json_ws
    start=$_p
    _fc_json_skip_value || return 1
    printf '%s\0' "${_j:start:_p-start}"
    _fc_json_ws
    case "${_j:_p:1}" in
      ,) _p=$((_p + 1)) ;;
      ']') return 0 ;;
      *) return 1 ;;
    esac
  done
}

# fc_json_string RAW: the text of a raw JSON string (escapes decoded; \u escapes of ASCII only).
fc_json_string() {
  local raw=$1 out='' re='^([^\\]*)\\(u[0-9A-Fa-f]{4}|.)' esc ch
  [[ ${#raw} -ge 2 && "$raw" == \"*\" ]] || return 1
  raw=${raw:1:${#raw}-2}
  while [[ "$raw" =~ $re ]]; do
    out+=${BASH_REMATCH[1]}
    esc=${BASH_REMATCH[2]}
    case "$esc" in
      n) out+=$'\n' ;;
      t) out+=$'\t' ;;
      r) out+=$'\r' ;;
      b | f) out+=' ' ;;
      u*)
        if ((16#${esc:1} < 128)); then printf -v ch '%b' "\\x${esc:3}" && out+=$ch; else out+='?'; fi
        ;;
      *) out+=$esc ;;
    esac
    raw=${raw:${#BASH_REMATCH[0]}}
  done
  printf '%s' "$out$raw"
}

# fc_json_text JSON STEP...: the text of the string at STEP...
fc_json_text() {
  local raw
  raw=$(fc_json_get "$@") || return 1
  fc_json_string "$raw"
}

# fc_body_message FILE: the error message of a JSON answer (message, detail, error, status.error) or its text.
fc_body_message() {
  local body msg
  body=$(head -c 4096 "$1" 2>/dev/null)
  msg=$(fc_json_text "$body" message) || msg=$(fc_json_text "$body" detail) || msg=$(fc_json_text "$body" error) ||
    msg=$(fc_json_text "$body" status error) || msg=$body
  fc_one_line "$msg"
}

# ---------------------------------------------------------------------------------------------
# HTTP: one bounded request. Secrets (headers, bodies) go in CONFIG, curl config lines read from
# stdin. Sets FC_STATUS (000 when nothing answered), FC_HEADERS, FC_BODY_FILE and FC_ERROR.
# fc_http METHOD URL TIMEOUT CONFIG [CURL ARGS...]
# ---------------------------------------------------------------------------------------------
fc_http() {
  local method=$1 url=$2 timeout=$3 config=$4 out rc=0
  shift 4
  FC_SEQ=$((FC_SEQ + 1))
  FC_BODY_FILE="$FC_TMP/body.$FC_SEQ"
  out=$(printf '%s\n' "$config" | curl --config - --silent --show-error --max-time "$timeout" \
    -X "$method" -D - -o "$FC_BODY_FILE" -w '%{http_code}' "$@" "$url" 2>"$FC_TMP/curl.err") || rc=$?
  FC_STATUS=000
  [[ "$out" =~ ([0-9]{3})$ ]] && FC_STATUS=${BASH_REMATCH[1]}
  FC_HEADERS=${out%???}
  FC_ERROR=
  if ((rc != 0)) || [[ "$FC_STATUS" == 000 ]]; then
    FC_STATUS=000
    FC_ERROR="no answer from $url ($(fc_one_line "$(head -n 1 "$FC_TMP/curl.err" 2>/dev/null)"))"
  fi
  [[ -f "$FC_BODY_FILE" ]] || : >"$FC_BODY_FILE"
}

fc_body() {
  cat "$FC_BODY_FILE"
}

# ---------------------------------------------------------------------------------------------
# postgres
# ---------------------------------------------------------------------------------------------

# Inside the container, 127.0.0.1 matches the image's initdb "trust" lines of pg_hba.conf; the
# service name reaches the container's own network address, which only matches the image's
# "host all all all scram-sha-256" line, and require_auth makes psql refuse a server that skips
# the password. The password reaches psql through docker's environment (-e NAME), never argv.
check_postgres() {
  local conninfo out rc=0 errfile="$FC_TMP/psql.err"
  conninfo="host=postgres port=5432 dbname=n8n user=n8n connect_timeout=${GM_CHECK_PSQL_CONNECT_TIMEOUT}"
  conninfo+=" require_auth=scram-sha-256 application_name=geusemaker-functional-check"
  conninfo+=" options=-cstatement_timeout=${GM_CHECK_PSQL_STATEMENT_TIMEOUT_MS}"
  out=$(PGPASSWORD=$POSTGRES_PASSWORD gm_compose exec -T -e PGPASSWORD postgres \
    psql -X -w -A -t -v ON_ERROR_STOP=1 -d "$conninfo" -c 'SELECT count(*) FROM public.migrations' \
    </dev/null 2>"$errfile") || rc=$?
  if ((rc != 0)); then
    local err
    err=$(grep -v '^[[:space:]]*$' "$errfile" | head -n 2)
    err=${err#psql: error: }
    FC_DETAIL="n8n's database did not answer as user n8n (psql exit $rc): $(fc_one_line "${err:-no output}")"
    return 1
  fi
  out=${out//[[:space:]]/}
  if [[ ! "$out" =~ ^[0-9]+$ ]]; then
    FC_DETAIL="unexpected answer to the migrations query: $(fc_one_line "$out")"
    return 1
  fi
  if ((out == 0)); then
    FC_DETAIL="n8n's migrations table is empty: n8n never migrated its database"
    return 1
  fi
  FC_DETAIL="n8n's database answers as user n8n (scram-sha-256): $out migrations applied"
}

# ---------------------------------------------------------------------------------------------
# n8n
# ---------------------------------------------------------------------------------------------

# The credentials n8n must list for the owner: "name<TAB>type" lines from n8n/credentials.json.
fc_expected_credentials() {
  local file="$GM_RUNTIME_DIR/n8n/credentials.json" item name type
  [[ -f "$file" ]] || return 1
  while IFS= read -r -d '' item; do
    name=$(fc_json_text "$item" name) || return 1
    type=$(fc_json_text "$item" type) || return 1
    printf '%s\t%s\n' "$name" "$type"
  done < <(fc_json_items "$(<"$file")")
}

check_n8n() {
  local base=$GM_N8N_LOCAL_URL password email body browser_id listed item name type expected missing=()
  local -a tls=()
  local -A have=()
  if [[ "$GM_N8N_TLS" == self-signed ]] && ! gm_ai_role; then
    local cert="${GM_N8N_TLS_DIR:-$GM_EFS_MOUNT/tls}/n8n.crt"
    if [[ ! -r "$cert" ]]; then
      FC_DETAIL="GM_N8N_TLS=self-signed but the certificate $cert is missing"
      return 1
    fi
    tls=(--cacert "$cert")
  fi
  email=$(gm_json_escape "$GM_N8N_OWNER_EMAIL") || { FC_DETAIL="GM_N8N_OWNER_EMAIL has control characters"; return 1; }
  password=$(gm_json_escape "$N8N_OWNER_PASSWORD") || { FC_DETAIL="N8N_OWNER_PASSWORD has control characters"; return 1; }
  body=$(fc_config_value "{\"emailOrLdapLoginId\":\"$email\",\"password\":\"$password\"}") || {
    FC_DETAIL="owner credentials cannot be sent"
    return 1
  }
  browser_id="geusemaker-functional-check-$$-$RANDOM"
  gm_ai_role && base=$GM_N8N_CHECK_URL

  fc_http POST "$base/rest/login" "$GM_CHECK_HTTP_TIMEOUT" "data-binary = $body" "${tls[@]}" \
    -H 'Content-Type: application/json' -H "browser-id: $browser_id"
  case "$FC_STATUS" in
    200) ;;
    000) FC_DETAIL="owner login: $FC_ERROR"; return 1 ;;
    401) FC_DETAIL="owner $GM_N8N_OWNER_EMAIL cannot log in (401): $(fc_body_message "$FC_BODY_FILE") (the password must match the secret geusemaker/$GM_DEPLOYMENT/n8n-owner-password)"; return 1 ;;
    429) FC_DETAIL="owner login rate-limited by n8n (429): try again in a minute"; return 1 ;;
    *) FC_DETAIL="owner login answered $FC_STATUS: $(fc_body_message "$FC_BODY_FILE")"; return 1 ;;
  esac
  if [[ "$FC_HEADERS" =~ [Ss]et-[Cc]ookie:[[:space:]]*n8n-auth=([^;[:space:]]+) ]]; then
    FC_SESSION=${BASH_REMATCH[1]}
  else
    FC_DETAIL="owner login answered 200 without an n8n-auth cookie"
    return 1
  fi

  local cookie_config
  cookie_config="header = $(fc_config_value "Cookie: n8n-auth=$FC_SESSION")"
  fc_http GET "$base/rest/credentials" "$GM_CHECK_HTTP_TIMEOUT" "$cookie_config" "${tls[@]}" \
    -H "browser-id: $browser_id"
  local status=$FC_STATUS list_file=$FC_BODY_FILE list_error=$FC_ERROR
  # The session is not needed any more: end it (best effort) so the cookie is worth nothing.
  fc_http POST "$base/rest/logout" "$GM_CHECK_HTTP_TIMEOUT" "$cookie_config" "${tls[@]}" \
    -H "browser-id: $browser_id"
  [[ "$FC_STATUS" == 200 ]] || gm_warn "n8n: logout answered $FC_STATUS"
  case "$status" in
    200) ;;
    000) FC_DETAIL="listing credentials: $list_error"; return 1 ;;
    *) FC_DETAIL="GET /rest/credentials answered $status for the owner: $(fc_body_message "$list_file")"; return 1 ;;
  esac
  if ! listed=$(fc_json_get "$(<"$list_file")" data) || [[ "$listed" != '['* ]]; then
    FC_DETAIL="GET /rest/credentials did not answer a {\"data\":[...]} list"
    return 1
  fi
  while IFS= read -r -d '' item; do
    name=$(fc_json_text "$item" name) || continue
    type=$(fc_json_text "$item" type) || continue
    have["$name"$'\t'"$type"]=1
  done < <(fc_json_items "$listed")
  if ! expected=$(fc_expected_credentials) || [[ -z "$expected" ]]; then
    FC_DETAIL="cannot read the expected credentials from $GM_RUNTIME_DIR/n8n/credentials.json"
    return 1
  fi
  while IFS=$'\t' read -r name type; do
    [[ -n "${have["$name"$'\t'"$type"]:-}" ]] || missing+=("$name ($type)")
  done <<<"$expected"
  if ((${#missing[@]} > 0)); then
    local joined
    printf -v joined '%s, ' "${missing[@]}"
    FC_DETAIL="credentials missing for the owner: ${joined%, }"
    return 1
  fi
  local count
  count=$(grep -c . <<<"$expected")
  FC_DETAIL="owner $GM_N8N_OWNER_EMAIL logged in and sees the $count pre-wired credentials"
}

# ---------------------------------------------------------------------------------------------
# qdrant
# ---------------------------------------------------------------------------------------------

# fc_qdrant METHOD PATH [BODY]: one request with the API key (through stdin).
fc_qdrant() {
  local config
  config="header = $(fc_config_value "api-key: $QDRANT_API_KEY")"
  if [[ $# -ge 3 ]]; then
    fc_http "$1" "$GM_QDRANT_URL$2" "$GM_CHECK_HTTP_TIMEOUT" "$config" -H 'Content-Type: application/json' --data-binary "$3"
  else
    fc_http "$1" "$GM_QDRANT_URL$2" "$GM_CHECK_HTTP_TIMEOUT" "$config"
  fi
}

fc_qdrant_failure() {
  if [[ "$FC_STATUS" == 000 ]]; then
    printf '%s: %s' "$1" "$FC_ERROR"
  else
    printf '%s answered %s: %s' "$1" "$FC_STATUS" "$(fc_body_message "$FC_BODY_FILE")"
  fi
}

check_qdrant() {
  local collection result rc=0 create_refused=false
  collection="geusemaker-functional-check-$(date -u +%Y%m%dT%H%M%SZ)-$$-$RANDOM"

  fc_http GET "$GM_QDRANT_URL/collections" "$GM_CHECK_HTTP_TIMEOUT" ''
  case "$FC_STATUS" in
    401 | 403) ;;
    000) FC_DETAIL="request without the API key: $FC_ERROR"; return 1 ;;
    *) FC_DETAIL="answered $FC_STATUS to a request without the API key: the API is not protected"; return 1 ;;
  esac

  fc_qdrant PUT "/collections/$collection" '{"vectors":{"size":4,"distance":"Cosine"}}'
  if [[ "$FC_STATUS" != 200 ]] || [[ "$(fc_json_get "$(fc_body)" result)" != true ]]; then
    FC_DETAIL=$(fc_qdrant_failure "creating scratch collection $collection")
    rc=1
    [[ "$FC_STATUS" == 4* ]] && create_refused=true
  fi
  if ((rc == 0)); then
    fc_qdrant PUT "/collections/$collection/points?wait=true" \
      '{"points":[{"id":1,"vector":[0.1,0.9,0.3,0.2],"payload":{"geusemaker":"functional-check"}}]}'
    if [[ "$FC_STATUS" != 200 ]] || [[ "$(fc_json_text "$(fc_body)" result status)" != completed ]]; then
      FC_DETAIL=$(fc_qdrant_failure "upserting a vector")
      rc=1
    fi
  fi
  if ((rc == 0)); then
    fc_qdrant POST "/collections/$collection/points/query" '{"query":[0.1,0.9,0.3,0.2],"limit":1}'
    if [[ "$FC_STATUS" != 200 ]]; then
      FC_DETAIL=$(fc_qdrant_failure "searching the vector")
      rc=1
    elif ! result=$(fc_json_get "$(fc_body)" result points 0 id) || [[ "$result" != 1 ]]; then
      FC_DETAIL="searching the vector just upserted did not find it (result.points: $(fc_one_line "$(fc_json_get "$(fc_body)" result points || echo none)"))"
      rc=1
    fi
  fi

  # Always, even after a failure (a create that timed out may still have happened): a scratch
  # collection must not outlive the check.
  fc_qdrant DELETE "/collections/$collection"
  if [[ "$FC_STATUS" != 200 && "$create_refused" == false ]]; then
    local delete_failure
    delete_failure=$(fc_qdrant_failure "deleting scratch collection $collection")
    if ((rc == 0)); then FC_DETAIL=$delete_failure; else FC_DETAIL+="; $delete_failure"; fi
    rc=1
  fi
  ((rc == 0)) && FC_DETAIL="API key required; scratch collection created, vector upserted and found, collection deleted"
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# ollama
# ---------------------------------------------------------------------------------------------

check_ollama() {
  local models item name names=()
  fc_http GET "$GM_OLLAMA_URL/api/tags" "$GM_CHECK_HTTP_TIMEOUT" ''
  case "$FC_STATUS" in
    200) ;;
    000) FC_DETAIL="GET /api/tags: $FC_ERROR"; return 1 ;;
    *) FC_DETAIL="GET /api/tags answered $FC_STATUS: $(fc_body_message "$FC_BODY_FILE")"; return 1 ;;
  esac
  if ! models=$(fc_json_get "$(fc_body)" models) || [[ "$models" != '['* ]]; then
    FC_DETAIL="GET /api/tags did not answer a {\"models\":[...]} list"
    return 1
  fi
  while IFS= read -r -d '' item; do
    name=$(fc_json_text "$item" name) && names+=("$name")
  done < <(fc_json_items "$models")
  if ((${#names[@]} == 0)); then
    FC_DETAIL="API answers; no model pulled yet"
  else
    FC_DETAIL="API answers; ${#names[@]} model(s): ${names[*]}"
  fi
}

# ---------------------------------------------------------------------------------------------
# crawl4ai
# ---------------------------------------------------------------------------------------------

# Crawl4AI refuses to fetch any address that is not globally routable (its SSRF guard: the compose
# network, the host, 127.0.0.1), so the page is handed over inline ("raw:"). wait_for makes it go
# through the real browser: the marker only exists once the page's script has run, so finding it
# in the markdown proves Chromium rendered the page and the markdown pipeline converted it.
fc_crawl_request() {
  local marker=$1 nonce=$2
  local html="<!doctype html><html><head><title>GeuseMaker functional check</title></head><body>"
  html+="<h1>GeuseMaker functional check</h1><p>Crawl4AI renders this page in its browser.</p>"
  html+="<div id='gm-out'></div><script>var p=document.createElement('p');p.id='gm-rendered';"
  html+="p.textContent='Rendered by the browser: '+['gmrendered','$nonce'].join('');"
  html+="document.getElementById('gm-out').appendChild(p);</script></body></html>"
  [[ "$html" != *"$marker"* ]] || return 1
  printf '{"urls":["raw:%s"],"crawler_config":{"type":"CrawlerRunConfig","params":{"wait_for":"css:#gm-rendered","wait_for_timeout":%s}}}' \
    "$html" "$((GM_CHECK_CRAWL_TIMEOUT * 1000 / 2))"
}

check_crawl4ai() {
  local nonce marker request markdown success error_message config
  nonce="$(date +%s)$$$RANDOM"
  marker="gmrendered$nonce"
  request=$(fc_crawl_request "$marker" "$nonce") || { FC_DETAIL="cannot build the crawl request"; return 1; }

  # A protected server refuses at once; only an unprotected one would start crawling.
  fc_http POST "$GM_CRAWL4AI_URL/crawl" "$GM_CHECK_HTTP_TIMEOUT" '' -H 'Content-Type: application/json' --data-binary "$request"
  case "$FC_STATUS" in
    401 | 403) ;;
    000) FC_DETAIL="crawl without the token: $FC_ERROR"; return 1 ;;
    *) FC_DETAIL="answered $FC_STATUS to a crawl without the token: the API is not protected"; return 1 ;;
  esac

  config="header = $(fc_config_value "Authorization: Bearer $CRAWL4AI_API_TOKEN")"
  fc_http POST "$GM_CRAWL4AI_URL/crawl" "$GM_CHECK_CRAWL_TIMEOUT" "$config" -H 'Content-Type: application/json' --data-binary "$request"
  case "$FC_STATUS" in
    200) ;;
    000) FC_DETAIL="crawl: $FC_ERROR"; return 1 ;;
    401 | 403) FC_DETAIL="the token was refused ($FC_STATUS): $(fc_body_message "$FC_BODY_FILE")"; return 1 ;;
    *) FC_DETAIL="crawl answered $FC_STATUS: $(fc_body_message "$FC_BODY_FILE")"; return 1 ;;
  esac
  local body
  body=$(fc_body)
  success=$(fc_json_get "$body" results 0 success) || success=missing
  if [[ "$success" != true ]]; then
    error_message=$(fc_json_text "$body" results 0 error_message) || error_message="no results[0]"
    FC_DETAIL="crawl result success:$success: $(fc_one_line "$error_message")"
    return 1
  fi
  markdown=$(fc_json_text "$body" results 0 markdown raw_markdown) ||
    markdown=$(fc_json_text "$body" results 0 markdown) || markdown=
  if [[ -z "${markdown//[[:space:]]/}" ]]; then
    FC_DETAIL="crawl succeeded but returned no markdown"
    return 1
  fi
  if [[ "$markdown" != *"$marker"* ]]; then
    FC_DETAIL="crawl returned markdown without the text the page's script renders: the page was not rendered by a browser"
    return 1
  fi
  FC_DETAIL="token required; a page rendered by the browser came back as ${#markdown} characters of markdown"
}

# ---------------------------------------------------------------------------------------------
# Running and reporting
# ---------------------------------------------------------------------------------------------

fc_now_ms() {
  date +%s%3N
}

fc_report() {
  local service=$1 ok=$2 ms=$3 detail
  detail=$(fc_one_line "$4")
  if [[ "$FC_JSON" == true ]]; then
    local escaped
    escaped=$(gm_json_escape "$detail")
    # gm-ops health --deep keeps 400 characters of a line: the object must stay whole within them.
    while ((${#escaped} > 320)); do
      detail="${detail:0:${#detail}-40}..."
      escaped=$(gm_json_escape "$detail")
    done
    printf '{"service":"%s","ok":%s,"ms":%s,"detail":"%s"}\n' "$service" "$ok" "$ms" "$escaped"
  elif [[ "$ok" == true ]]; then
    printf '%s ok %s\n' "$service" "$detail"
  else
    printf '%s FAIL %s\n' "$service" "$detail"
  fi
  if [[ "$ok" == true ]]; then
    gm_info "$service ok ($ms ms): $detail"
  else
    gm_error "$service FAIL ($ms ms): $detail"
  fi
}

fc_run() {
  local service=$1 started rc=0
  FC_DETAIL=
  started=$(fc_now_ms)
  case "$service" in
    postgres) check_postgres || rc=$? ;;
    n8n) check_n8n || rc=$? ;;
    qdrant) check_qdrant || rc=$? ;;
    ollama) check_ollama || rc=$? ;;
    crawl4ai) check_crawl4ai || rc=$? ;;
  esac
  if ((rc == 0)); then
    fc_report "$service" true "$(($(fc_now_ms) - started))" "$FC_DETAIL"
  else
    FC_FAILED=$((FC_FAILED + 1))
    fc_report "$service" false "$(($(fc_now_ms) - started))" "${FC_DETAIL:-check failed}"
  fi
}

# fc_require_url NAME: the setting NAME is an http(s) URL (a trailing slash is dropped).
fc_require_url() {
  local name=$1 value=${!1}
  [[ "$value" =~ ^https?://[^[:space:]/]+(/[^[:space:]]*)?$ ]] ||
    gm_die 2 "setting $name must be an http(s) URL such as http://127.0.0.1:6333 (got '$value')"
  printf -v "$name" '%s' "${value%/}"
}

fc_configure() {
  local services=("$@") service name
  : "${GM_N8N_TLS:=off}"
  case "$GM_N8N_TLS" in
    off) : "${GM_N8N_LOCAL_URL:=http://127.0.0.1:5678}" ;;
    self-signed) : "${GM_N8N_LOCAL_URL:=https://127.0.0.1:5678}" ;;
    *) gm_die 2 "setting GM_N8N_TLS must be off or self-signed (got '$GM_N8N_TLS')" ;;
  esac
  : "${GM_N8N_OWNER_EMAIL:=owner@example.com}"
  : "${GM_OLLAMA_URL:=http://127.0.0.1:11434}"
  : "${GM_CRAWL4AI_URL:=http://127.0.0.1:11235}"
  : "${GM_CHECK_HTTP_TIMEOUT:=15}"
  : "${GM_CHECK_CRAWL_TIMEOUT:=90}"
  : "${GM_CHECK_PSQL_CONNECT_TIMEOUT:=10}"
  : "${GM_CHECK_PSQL_STATEMENT_TIMEOUT_MS:=10000}"
  for name in GM_N8N_LOCAL_URL GM_QDRANT_URL GM_OLLAMA_URL GM_CRAWL4AI_URL; do
    fc_require_url "$name"
  done
  if gm_ai_role && [[ " ${services[*]} " == *" n8n "* ]]; then
    [[ -n "${GM_N8N_CHECK_URL:-}" ]] ||
      gm_die 2 "setting GM_N8N_CHECK_URL is not set: this AI host does not know the scale tier's load balancer, so n8n cannot be checked from here"
    fc_require_url GM_N8N_CHECK_URL
  fi
  for name in GM_CHECK_HTTP_TIMEOUT GM_CHECK_CRAWL_TIMEOUT GM_CHECK_PSQL_CONNECT_TIMEOUT GM_CHECK_PSQL_STATEMENT_TIMEOUT_MS; do
    gm_require_uint "$name"
  done
  local -A needs=([postgres]=POSTGRES_PASSWORD [n8n]=N8N_OWNER_PASSWORD [qdrant]=QDRANT_API_KEY [crawl4ai]=CRAWL4AI_API_TOKEN)
  local missing=()
  for service in "${services[@]}"; do
    name=${needs[$service]:-}
    [[ -z "$name" || -n "${!name:-}" ]] || missing+=("$name (for $service)")
  done
  if ((${#missing[@]} > 0)); then
    gm_die 2 "missing secret(s) ${missing[*]}: expected as NAME=value lines in $GM_ENV_FILE"
  fi
}

main() {
  local -a requested=() selected=()
  local service wanted
  while (($# > 0)); do
    case "$1" in
      --json) FC_JSON=true ;;
      --service)
        [[ $# -ge 2 && -n "$2" ]] || usage_error "--service needs a name (postgres, n8n, qdrant, ollama, crawl4ai)"
        requested+=("$2")
        shift
        ;;
      --service=*) requested+=("${1#--service=}") ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown argument '$1'" ;;
    esac
    shift
  done
  for wanted in "${requested[@]}"; do
    [[ " ${FC_SERVICES[*]} " == *" $wanted "* ]] ||
      usage_error "unknown service '$wanted' (allowed: ${FC_SERVICES[*]})"
  done

  gm_init functional-check
  # The services of this host's role (gm_init narrows GM_SERVICES on the AI host), in the order of FC_SERVICES.
  # The AI host may check n8n remotely when asked by name (see the header), never by default.
  local -a checkable=("${GM_SERVICES[@]}")
  gm_ai_role && [[ " ${requested[*]} " == *" n8n "* ]] && checkable+=(n8n)
  for wanted in "${requested[@]}"; do
    [[ " ${checkable[*]} " == *" $wanted "* ]] ||
      usage_error "$wanted does not run on this host (GM_ROLE=$GM_ROLE runs: ${GM_SERVICES[*]}; n8n is checked from here only with --service n8n)"
  done
  for service in "${FC_SERVICES[@]}"; do
    [[ " ${checkable[*]} " == *" $service "* ]] || continue
    if ((${#requested[@]} == 0)) || [[ " ${requested[*]} " == *" $service "* ]]; then
      selected+=("$service")
    fi
  done

  export LC_ALL=C
  fc_configure "${selected[@]}"
  FC_TMP=$(mktemp -d "$GM_RUN_DIR/functional-check.XXXXXX") || gm_die 2 "cannot create a private directory in $GM_RUN_DIR"
  trap 'rm -rf "$FC_TMP"' EXIT
  gm_info "functional check of: ${selected[*]}"
  for service in "${selected[@]}"; do
    fc_run "$service"
  done
  if ((FC_FAILED > 0)); then
    gm_error "functional check: $FC_FAILED of ${#selected[@]} service(s) failed"
    exit 1
  fi
  gm_info "functional check: every checked service works (${selected[*]})"
  exit 0
}

main "$@"
