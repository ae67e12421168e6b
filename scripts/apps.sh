#!/usr/bin/env bash
# FarmIQ's own long-running processes, in the background with pid files and logs under
# FARMIQ_HOME (.run/pids/<name>.pid, .run/logs/<name>.log):
#
#   scripts/apps.sh start|stop|status [name...]
#
# A process whose entry file does not exist yet is skipped with a note. Start waits until each
# one's /health answers 200 (every listener's, for a process with several); stop sends SIGTERM,
# waits SHUTDOWN_GRACE_SECONDS + 5, then SIGKILL.
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
)

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

start_apps() {
  local app name entry urls url pid started=()
  for app in "${APPS[@]}"; do
    name="$(app_field "$app" 1)"; entry="$(app_field "$app" 2)"; urls="$(app_field "$app" 3)"
    want "$name" || continue
    if [[ ! -f "$entry" ]]; then
      say "$name: skipped ($entry does not exist yet)"
      continue
    fi
    if pid="$(running_pid "$name" node)"; then
      say "$name: already running (pid $pid)"
      started+=("$app")
      continue
    fi
    for url in $urls; do
      if port_open "$(health_host "$url")" "$(health_port "$url")"; then
        die "$name: port $(health_port "$url") (its listener on $(health_host "$url")) is in use by $(port_owner "$(health_port "$url")" || echo 'another process'), not started by FarmIQ; stop that process first"
      fi
    done
    step "$name: starting node --import tsx $entry (log $LOG_DIR/$name.log)"
    start_detached "$name" "$LOG_DIR/$name.log" node --import tsx "$entry"
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
  done
}

status_apps() {
  local app name entry urls url pid code answers
  for app in "${APPS[@]}"; do
    name="$(app_field "$app" 1)"; entry="$(app_field "$app" 2)"; urls="$(app_field "$app" 3)"
    want "$name" || continue
    if pid="$(running_pid "$name" node)"; then
      answers=()
      for url in $urls; do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
        answers+=("$url -> ${code:-no answer}")
      done
      printf '%-12s running (pid %s, %s, log %s)\n' "$name" "$pid" "$(IFS=,; printf '%s' "${answers[*]}" | sed 's/,/, /g')" "$LOG_DIR/$name.log"
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
  status) status_apps ;;
  *) die "usage: scripts/apps.sh start|stop|status [name...]" ;;
esac
