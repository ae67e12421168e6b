#!/usr/bin/env bash
# FarmIQ's own long-running processes, in the background with pid files and logs under
# FARMIQ_HOME (.run/pids/<name>.pid, .run/logs/<name>.log):
#
#   scripts/apps.sh start|stop|restart|status [name...]
#
# A process whose entry file does not exist yet is skipped with a note. Start waits until each
# one's /health answers 200 (every listener's, for a process with several); stop sends SIGTERM,
# waits SHUTDOWN_GRACE_SECONDS + 5, then SIGKILL.
#
# Each start records what the process was started with in .run/pids/<name>.config (docs/runtime.md):
# the FarmIQ settings in its environment (config/settings.ts names, hashed), the contents of the
# files those settings name (EDGE_SIGNING_KEY_FILE), the code version (git HEAD) and the Node
# version. `start` restarts a running process whose record differs from what it would be started
# with now, saying what changed, and leaves one whose record matches alone; `status` shows the
# record and whether it is stale. Uncommitted edits do not count: `restart` picks them up.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

# Where to reach a listener bound to HOST from this machine: a wildcard bind answers on loopback.
probe_host() {
  case "$1" in
    0.0.0.0 | '::' | '[::]' | '') printf '127.0.0.1' ;;
    *:*) local h="${1#[}"; printf '[%s]' "${h%]}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# name | entry point | health URL(s), space-separated (ports from config/settings.ts). Cloud first,
# so the edge finds it. edge-http has two listeners: the operator API and the stations' uploads.
APPS=(
  "cloud-http|gateways/http/cloud-main.ts|http://127.0.0.1:$CLOUD_HTTP_PORT/health"
  "cloud-worker|workers/cloud/main.ts|http://127.0.0.1:$CLOUD_WORKER_HEALTH_PORT/health"
  "cloud-consumers|cloud/consumers/main.ts|http://127.0.0.1:$CLOUD_CONSUMERS_HEALTH_PORT/health"
  "notifications|notifications/main.ts|http://127.0.0.1:$NOTIFICATIONS_HEALTH_PORT/health"
  "edge-http|gateways/http/edge-main.ts|http://$(probe_host "$EDGE_HTTP_HOST"):$EDGE_HTTP_PORT/health http://$(probe_host "$EDGE_STATION_HTTP_HOST"):$EDGE_STATION_HTTP_PORT/health"
  "edge-worker|workers/edge/main.ts|http://127.0.0.1:$EDGE_WORKER_HEALTH_PORT/health"
  "mqtt-bridge|gateways/mqtt-bridge/main.ts|http://127.0.0.1:$BRIDGE_HEALTH_PORT/health"
  "simulator|simulator/main.ts|http://127.0.0.1:$SIMULATOR_HEALTH_PORT/health"
)
# The demo's processes see its farm server key and time zone, unless the user set their own.
if demo_enabled; then
  [[ -z "${EDGE_SIGNING_KEY_FILE:-}" && -f "$FARMIQ_HOME/demo/edge-key.pem" ]] && export EDGE_SIGNING_KEY_FILE="$FARMIQ_HOME/demo/edge-key.pem"
  [[ -z "${EDGE_FARM_TIME_ZONE:-}" ]] && export EDGE_FARM_TIME_ZONE="$(demo_time_zone)"
fi
# For tests (test/scripts/): FARMIQ_APPS replaces the list, one name|entry|urls line per process.
if [[ -n "${FARMIQ_APPS:-}" ]]; then mapfile -t APPS <<<"$FARMIQ_APPS"; fi

app_field() { # app_field "name|entry|url" 1|2|3
  local IFS='|' parts
  read -ra parts <<<"$1"
  printf '%s' "${parts[$2 - 1]}"
}

selected=()
want() {
  local n
  ((${#selected[@]} == 0)) && return 0
  for n in "${selected[@]}"; do [[ "$n" == "$1" ]] && return 0; done
  return 1
}

health_port() { [[ "$1" =~ :([0-9]+)/ ]] && printf '%s' "${BASH_REMATCH[1]}"; }
health_host() { [[ "$1" =~ ^http://(\[[^]]*\]|[^:/]+): ]] && printf '%s' "${BASH_REMATCH[1]}" | tr -d '[]'; }

# Waits for 200 from /health; on failure shows why (the last health answer and the log tail).
wait_healthy() {
  local name="$1" url="$2" pid="$3" deadline body
  deadline=$((SECONDS + FARMIQ_START_TIMEOUT))
  until http_ok "$url" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || fail_start "$name" "$LOG_DIR/$name.log" "exited during start-up"
    if ((SECONDS >= deadline)); then
      body="$(curl -s --max-time 2 "$url" || echo 'no answer')"
      fail_start "$name" "$LOG_DIR/$name.log" "$url not healthy after ${FARMIQ_START_TIMEOUT}s (last answer: $body)"
    fi
    sleep 0.5
  done
}

# --- What a process is started with (its configuration record) ---------------------------------
config_record_file() { printf '%s/%s.config' "$PID_DIR" "$1"; }

short_hash() { sha256sum | cut -c1-16; }

# current_record ENTRY: the record a process started now with ENTRY would get. Lines:
#   fp <kind> <name> <value>  compared by start and status (env values and file contents hashed)
#   <key> <text>        for status: version, node, read (a configuration file the process reads)
current_record() {
  local entry="$1" name kv value head dirty="" node
  declare -A exported=()
  while IFS= read -r -d '' kv; do exported["${kv%%=*}"]="${kv#*=}"; done < <(env -0)
  while IFS= read -r name; do
    [[ -n "${exported[$name]+set}" ]] || continue
    printf 'fp env %s %s\n' "$name" "$(printf '%s' "${exported[$name]}" | short_hash)"
    # A setting that names a file (EDGE_SIGNING_KEY_FILE): the file's contents count too.
    if [[ "$name" == *_FILE && -n "${exported[$name]}" ]]; then
      value="${exported[$name]}"
      if [[ -r "$value" ]]; then
        printf 'fp file %s %s\n' "$value" "$(short_hash <"$value")"
      else
        printf 'fp file %s missing\n' "$value"
      fi
      printf 'read %s\n' "$value"
    fi
  done < <(setting_names)
  head="$(git -C "$FARMIQ_REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
  printf 'fp code HEAD %s\n' "$head"
  node="$(command -v node || echo node)"
  printf 'fp node version %s\n' "$("$node" --version 2>/dev/null || echo unknown)"
  printf 'fp command argv node --import tsx %s\n' "$entry"
  [[ -n "$(git -C "$FARMIQ_REPO" status --porcelain 2>/dev/null | head -1)" ]] && dirty=" (with uncommitted changes)"
  printf 'version %s%s\n' "${head:0:9}" "$dirty"
  printf 'node %s %s\n' "$("$node" --version 2>/dev/null || echo unknown)" "$(readlink -f "$node")"
  [[ -n "${FARMIQ_CONFIG:-}" ]] && printf 'read %s\n' "$FARMIQ_CONFIG"
  if ! production_mode && [[ -f "$FARMIQ_SECRETS_FILE" ]]; then printf 'read %s\n' "$FARMIQ_SECRETS_FILE"; fi
  return 0
}

write_config_record() { # write_config_record NAME ENTRY PID
  local file tmp
  file="$(config_record_file "$1")"
  tmp="$(mktemp "$PID_DIR/.$1.config.XXXXXX")" # mode 0600: hashes of secrets
  { printf 'started %s\npid %s\n' "$(date -Is)" "$3"; current_record "$2"; } >"$tmp"
  mv "$tmp" "$file"
}

# config_changes NAME ENTRY: nothing when NAME's record matches what it would be started with now,
# else what changed, comma-separated (names of settings and files, never their values).
config_changes() {
  local file what key value change changes=()
  file="$(config_record_file "$1")"
  if [[ ! -f "$file" ]]; then
    printf 'no record of the configuration it was started with'
    return 0
  fi
  declare -A was=() now=()
  while read -r _ what key value; do was["$what $key"]="$value"; done < <(grep '^fp ' "$file")
  while read -r _ what key value; do now["$what $key"]="$value"; done < <(current_record "$2" | grep '^fp ')
  for key in "${!now[@]}"; do
    if [[ -z "${was[$key]+set}" ]]; then
      change="$(describe_change "$key" set)"
    elif [[ "${was[$key]}" != "${now[$key]}" ]]; then
      change="$(describe_change "$key" changed "${was[$key]}" "${now[$key]}")"
    else
      continue
    fi
    [[ -z "$change" ]] || changes+=("$change")
  done
  for key in "${!was[@]}"; do
    [[ -z "${now[$key]+set}" ]] || continue
    change="$(describe_change "$key" unset)"
    [[ -z "$change" ]] || changes+=("$change")
  done
  ((${#changes[@]})) || return 0
  (IFS=$'\n'; sort <<<"${changes[*]}") | paste -sd ',' | sed 's/,/, /g'
}

describe_change() { # describe_change "KIND NAME" set|changed|unset [WAS NOW]
  local kind="${1%% *}" name="${1#* }"
  case "$kind:$2" in
    env:set) printf '%s set' "$name" ;;
    env:unset) printf '%s unset' "$name" ;;
    env:changed) printf '%s changed' "$name" ;;
    file:set | file:unset) ;; # the setting naming it is reported
    file:*) printf '%s edited' "$name" ;;
    code:*) printf 'code %s -> %s' "${3:0:9}" "${4:0:9}" ;;
    node:*) printf 'node %s -> %s' "$3" "$4" ;;
    command:*) printf 'command %s -> %s' "$3" "$4" ;;
  esac
}

record_field() { # record_field NAME KEY: the values of KEY's lines in NAME's record
  local file
  file="$(config_record_file "$1")"
  [[ -f "$file" ]] || return 0
  sed -n "s/^$2 //p" "$file" | awk '!seen[$0]++'
}

start_apps() {
  local app name entry urls url pid changes started=()
  require_supported_node
  for app in "${APPS[@]}"; do
    name="$(app_field "$app" 1)"; entry="$(app_field "$app" 2)"; urls="$(app_field "$app" 3)"
    want "$name" || continue
    # The demo's devices: only with the demo on (a running one is stopped when it is switched off).
    if [[ "$name" == simulator ]] && ! demo_enabled; then
      if pid="$(running_pid "$name" node)"; then
        step "simulator: stopping (pid $pid): the demo is off"
        stop_pid "$name" "$pid" $((SHUTDOWN_GRACE_SECONDS + 5))
      fi
      continue
    fi
    if [[ ! -f "$entry" ]]; then
      say "$name: skipped ($entry does not exist yet)"
      continue
    fi
    if pid="$(running_pid "$name" node)"; then
      changes="$(config_changes "$name" "$entry")"
      if [[ -z "$changes" ]]; then
        say "$name: already running (pid $pid), configuration unchanged"
        started+=("$app")
        continue
      fi
      step "$name: restarting (pid $pid): $changes"
      stop_pid "$name" "$pid" $((SHUTDOWN_GRACE_SECONDS + 5))
    fi
    for url in $urls; do
      if port_open "$(health_host "$url")" "$(health_port "$url")"; then
        die "$name: port $(health_port "$url") (its listener on $(health_host "$url")) is in use by $(port_owner "$(health_port "$url")" || echo 'another process'), not started by FarmIQ; stop that process first"
      fi
    done
    step "$name: starting node --import tsx $entry (log $LOG_DIR/$name.log)"
    start_detached "$name" "$LOG_DIR/$name.log" node --import tsx "$entry"
    write_config_record "$name" "$entry" "$(tr -dc '0-9' <"$(pid_file "$name")")"
    started+=("$app")
  done
  for app in "${started[@]}"; do
    name="$(app_field "$app" 1)"; urls="$(app_field "$app" 3)"
    pid="$(running_pid "$name" node)" || fail_start "$name" "$LOG_DIR/$name.log" "exited during start-up"
    for url in $urls; do wait_healthy "$name" "$url" "$pid"; done
    say "$name: healthy (${urls// /, }, pid $pid)"
  done
}

stop_apps() {
  local i app name pid
  # SIGTERM to all first so their grace periods run side by side, then wait for each in reverse
  # order (the edge before the cloud it sends to).
  for app in "${APPS[@]}"; do
    name="$(app_field "$app" 1)"
    want "$name" || continue
    if pid="$(running_pid "$name" node)"; then
      step "$name: stopping (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for ((i = ${#APPS[@]} - 1; i >= 0; i--)); do
    app="${APPS[$i]}"
    name="$(app_field "$app" 1)"
    want "$name" || continue
    if pid="$(running_pid "$name" node)"; then
      stop_pid "$name" "$pid" $((SHUTDOWN_GRACE_SECONDS + 5))
    else
      rm -f "$(pid_file "$name")"
    fi
    rm -f "$(config_record_file "$name")"
  done
}

# Per process: running or not, pid, health; the code version and Node it was started with, the
# configuration files it read, and whether its configuration is stale (start would restart it).
status_apps() {
  local app name entry urls url pid code answers changes config version node read
  for app in "${APPS[@]}"; do
    name="$(app_field "$app" 1)"; entry="$(app_field "$app" 2)"; urls="$(app_field "$app" 3)"
    want "$name" || continue
    if pid="$(running_pid "$name" node)"; then
      answers=()
      for url in $urls; do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
        answers+=("$url -> ${code:-no answer}")
      done
      changes="$(config_changes "$name" "$entry")"
      config="current"
      [[ -z "$changes" ]] || config="stale ($changes; make up restarts it)"
      version="$(record_field "$name" version)"
      node="$(record_field "$name" node)"
      read="$(record_field "$name" read | paste -sd ',' | sed 's/,/, /g')"
      printf '%-12s running, pid %s, since %s\n' "$name" "$pid" "$(record_field "$name" started || true)"
      printf '%-12s   code %s, node %s\n' "" "${version:-unknown}" "${node:-unknown}"
      printf '%-12s   configuration %s, read: %s\n' "" "$config" "${read:-no file}"
      printf '%-12s   health %s, log %s\n' "" "$(IFS=,; printf '%s' "${answers[*]}" | sed 's/,/, /g')" "$LOG_DIR/$name.log"
    elif [[ -f "$entry" ]]; then
      printf '%-12s stopped\n' "$name"
    else
      printf '%-12s not written yet (%s)\n' "$name" "$entry"
    fi
  done
}

cmd="${1:-status}"
shift || true
selected=("$@")
ensure_run_dirs
case "$cmd" in
  start) start_apps ;;
  stop) stop_apps ;;
  restart) stop_apps && start_apps ;;
  status) status_apps ;;
  *) die "usage: scripts/apps.sh start|stop|restart|status [name...]" ;;
esac
