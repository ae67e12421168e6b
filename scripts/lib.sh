# shellcheck shell=bash
# Shared by scripts/*.sh: settings with the same names and defaults as config/settings.ts, where
# runtime state lives, and small helpers (pid files, waiting for ports and URLs, log tails).
# Sourced, never run.

set -euo pipefail

FARMIQ_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FARMIQ_REPO

# A farm server keeps its settings in one env file named by FARMIQ_CONFIG (deploy/edge.env.example);
# as in config/settings.ts, variables already set in the environment win over the file.
load_config_file() {
  local file="${FARMIQ_CONFIG:-}" line key value
  [[ -z "$file" ]] && return 0
  [[ -f "$file" ]] || { echo "FARMIQ_CONFIG names $file, which does not exist" >&2; exit 1; }
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key="${BASH_REMATCH[2]}"
    value="${BASH_REMATCH[3]}"
    value="${value%%[[:space:]]#*}"          # trailing comment
    value="${value%"${value##*[![:space:]]}"}" # trailing blanks
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"; fi
    [[ -n "${!key+set}" ]] || export "$key=$value"
  done <"$file"
}
load_config_file

# --- Settings (names and defaults exactly as in config/settings.ts) -------------------------------
: "${FARMIQ_HOME:=$FARMIQ_REPO/.run}"
: "${EDGE_DATABASE_URL:=postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_edge}"
: "${CLOUD_DATABASE_URL:=postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_cloud}"
: "${MQTT_URL:=mqtt://127.0.0.1:1883}"
: "${TEMPORAL_ADDRESS:=127.0.0.1:7233}"
: "${TEMPORAL_UI_URL:=http://127.0.0.1:8233}"
: "${TEMPORAL_EDGE_NAMESPACE:=farmiq-edge}"
: "${TEMPORAL_CLOUD_NAMESPACE:=farmiq-cloud}"
: "${AMQP_URL:=amqp://farmiq:farmiq@127.0.0.1:5672/farmiq}"
: "${S3_ENDPOINT:=http://127.0.0.1:9000}"
: "${S3_ACCESS_KEY:=farmiq-edge}"
: "${S3_SECRET_KEY:=farmiq-edge-dev-secret}"
: "${S3_BUCKET:=farmiq-media}"
: "${EDGE_HTTP_PORT:=8080}"
: "${CLOUD_HTTP_PORT:=8090}"
: "${BRIDGE_HEALTH_PORT:=8101}"
: "${EDGE_WORKER_HEALTH_PORT:=8102}"
: "${CLOUD_WORKER_HEALTH_PORT:=8103}"
: "${CLOUD_CONSUMERS_HEALTH_PORT:=8104}"
: "${NOTIFICATIONS_HEALTH_PORT:=8105}"
: "${CLOUD_APP_DATABASE_URL:=postgres://farmiq_app:farmiq_app@127.0.0.1:5432/farmiq_cloud}"
: "${SHUTDOWN_GRACE_SECONDS:=20}"
# The integration tests' databases (names as in test/support/stack.ts) and RabbitMQ vhost.
: "${TEST_EDGE_DATABASE_URL:=postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_edge_test}"
: "${TEST_CLOUD_DATABASE_URL:=postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_cloud_test}"
: "${TEST_AMQP_VHOST:=farmiq_test}"
# How long a service or process may take to become ready before start-up fails.
: "${FARMIQ_START_TIMEOUT:=120}"
export FARMIQ_HOME

RUN_DIR="$FARMIQ_HOME"
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"
VENV="$FARMIQ_REPO/.venv"

ensure_run_dirs() { mkdir -p "$LOG_DIR" "$PID_DIR"; }

# --- Output ---------------------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Last lines of a log, indented, for failure messages.
log_tail() {
  local file="$1" n="${2:-25}"
  if [[ -s "$file" ]]; then
    printf -- '--- last %s lines of %s ---\n' "$n" "$file" >&2
    tail -n "$n" "$file" | sed 's/^/    /' >&2
  else
    printf -- '--- %s is empty or missing ---\n' "$file" >&2
  fi
}

# fail_start NAME LOGFILE MESSAGE: a clear reason plus the log tail, then exit 1.
fail_start() {
  printf 'error: %s: %s\n' "$1" "$3" >&2
  log_tail "$2"
  exit 1
}

skipped() { # skipped NAME  → true (and says so) if FARMIQ_SKIP_NAME=1
  local var="FARMIQ_SKIP_$1"
  if [[ "${!var:-0}" == "1" ]]; then
    say "$(tr '[:upper:]' '[:lower:]' <<<"$1"): skipped ($var=1): using your own"
    return 0
  fi
  return 1
}

# --- URLs -----------------------------------------------------------------------------------------
# url_part URL host|port|user|password|path [default-port]
url_part() {
  local url="$1" part="$2" def="${3:-}" rest auth hostport
  rest="${url#*://}"
  auth=""
  if [[ "$rest" == *@* ]]; then auth="${rest%%@*}"; rest="${rest#*@}"; fi
  hostport="${rest%%/*}"
  case "$part" in
    host) printf '%s' "${hostport%%:*}" ;;
    port) if [[ "$hostport" == *:* ]]; then printf '%s' "${hostport##*:}"; else printf '%s' "$def"; fi ;;
    user) printf '%s' "${auth%%:*}" ;;
    password) if [[ "$auth" == *:* ]]; then printf '%s' "${auth#*:}"; fi ;;
    path) if [[ "$rest" == */* ]]; then local p="${rest#*/}"; printf '%s' "${p%%\?*}"; fi ;;
    *) die "url_part: unknown part $part" ;;
  esac
}

# --- Processes ------------------------------------------------------------------------------------
pid_file() { printf '%s/%s.pid' "$PID_DIR" "$1"; }

# running_pid NAME [COMM]: prints the pid from NAME's pid file if that process is alive (and, when
# COMM is given, its command name starts with COMM: a stale pid may belong to someone else).
running_pid() {
  local file pid comm
  file="$(pid_file "$1")"
  [[ -s "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -n "${2:-}" && -r "/proc/$pid/comm" ]]; then
    comm="$(cat "/proc/$pid/comm")"
    # setsid/env: started a moment ago and not yet exec'd into the server itself.
    [[ "$comm" == "$2"* || "$comm" == setsid || "$comm" == env ]] || return 1
  fi
  printf '%s' "$pid"
}

# start_detached NAME LOGFILE CMD...: runs CMD in its own session (Ctrl-C in the terminal that ran
# make does not reach it), appends its output to LOGFILE and records its pid.
start_detached() {
  local name="$1" log="$2"
  shift 2
  ensure_run_dirs
  printf '\n=== %s starting %s ===\n' "$(date -Is)" "$name" >>"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$(pid_file "$name")"
}

# stop_pid NAME PID GRACE_SECONDS: SIGTERM, wait, then SIGKILL the process and its process group.
stop_pid() {
  local name="$1" pid="$2" grace="$3" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= grace * 10)); then
      warn "$name (pid $pid) did not stop within ${grace}s; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # Whatever it left behind in its own process group (setsid made it the leader).
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$(pid_file "$name")"
}

# --- Readiness ------------------------------------------------------------------------------------
port_open() { # port_open HOST PORT
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_until NAME LOGFILE TIMEOUT PID CMD...: polls CMD until it succeeds; fails with the log tail
# if TIMEOUT passes or (when PID is not "-") the process dies first.
wait_until() {
  local name="$1" log="$2" timeout="$3" pid="$4" deadline
  shift 4
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ "$pid" != "-" ]] && ! kill -0 "$pid" 2>/dev/null; then
      fail_start "$name" "$log" "exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      fail_start "$name" "$log" "not ready after ${timeout}s"
    fi
    sleep 0.25
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }
http_any() { curl -sS -o /dev/null --max-time 2 "$1"; } # any HTTP answer, even 403

# Who holds a TCP port (for "port in use" messages).
port_owner() {
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -1
}

# The Temporal CLI: TEMPORAL_CLI_PATH if set, else a `temporal` already on PATH (the user's own),
# else the pinned one from the project venv (make setup).
temporal_cli() {
  if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
    printf '%s' "$TEMPORAL_CLI_PATH"
  elif command -v temporal >/dev/null 2>&1; then
    command -v temporal
  else
    printf '%s' "$VENV/bin/temporal"
  fi
}

as_postgres() { # run a command as the postgres OS user
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    sudo -n -u postgres -- "$@"
  fi
}
