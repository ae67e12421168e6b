#!/usr/bin/env bash
# make up: the whole local stack in one command. Setup (installs only what is missing), the
# servers (scripts/services.sh), the prebuilt workflow bundles, then FarmIQ's own processes
# (scripts/apps.sh). Running it again leaves alone whatever already runs with the configuration it
# would be started with now, and restarts a process whose configuration changed (settings in the
# environment, FARMIQ_CONFIG or secrets.env, a file a setting names, git HEAD, Node), saying what
# changed (docs/runtime.md).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

bash scripts/setup.sh
bash scripts/services.sh start

# Prebuilt workflow bundles (workers fall back to bundling from source when there are none).
bundle_log="$LOG_DIR/workflow-bundle.log"
bundle_cmd=()
npm_script="$(node -p 'const s = require("./package.json").scripts || {}; ["temporal:bundle", "build:workflows"].find((n) => s[n]) || ""')"
if [[ -n "$npm_script" ]]; then
  bundle_cmd=(npm run --silent "$npm_script")
elif [[ -f temporal/build-bundle.ts ]]; then
  bundle_cmd=(npx tsx temporal/build-bundle.ts)
fi
if ((${#bundle_cmd[@]})); then
  ensure_run_dirs
  step "workflow bundles: ${bundle_cmd[*]} (log $bundle_log)"
  "${bundle_cmd[@]}" >"$bundle_log" 2>&1 || fail_start "workflow bundles" "$bundle_log" "build failed"
  grep -E '^(edge|cloud): ' "$bundle_log" | sed 's/^/  /' || true
fi

# The demo farm (FARMIQ_DEMO=0 leaves it out): provisioned before the processes start, so the
# farm server starts with its cloud key and the simulator with its devices' credentials.
demo_log="$LOG_DIR/demo.log"
if demo_enabled; then
  ensure_run_dirs
  step "demo farm: provisioning (log $demo_log)"
  "$FARMIQ_REPO/bin/farmiq" demo provision >"$demo_log" 2>&1 || fail_start "demo farm" "$demo_log" "provisioning failed"
fi

bash scripts/apps.sh start

demo_info=""
if demo_enabled; then
  # The history is played once (a marker in $FARMIQ_HOME/demo), through the running stack.
  # FARMIQ_DEMO_HISTORY_DAYS (default 21) is how many past days the first `make up` plays.
  step "demo farm: its history (${FARMIQ_DEMO_HISTORY_DAYS:-21} days, played once; log $demo_log)"
  "$FARMIQ_REPO/bin/farmiq" demo backfill --days "${FARMIQ_DEMO_HISTORY_DAYS:-21}" >>"$demo_log" 2>&1 || fail_start "demo farm" "$demo_log" "backfill failed"
  demo_info="$("$FARMIQ_REPO/bin/farmiq" demo sign-in 2>/dev/null | sed 's/^/                  /')"
fi

ui_note=""
http_any "$TEMPORAL_UI_URL" || ui_note="  (not answering: is the Temporal server on $TEMPORAL_ADDRESS someone else's, started headless?)"

cat <<INFO

FarmIQ is up.
  Dashboard       http://127.0.0.1:$CLOUD_HTTP_PORT/   (sign in with a demo user below; the API at /api/v1, its document at /api/docs)
  Temporal UI     $TEMPORAL_UI_URL   (namespaces $TEMPORAL_EDGE_NAMESPACE, $TEMPORAL_CLOUD_NAMESPACE; gRPC $TEMPORAL_ADDRESS)$ui_note
  Edge stations   http://$EDGE_STATION_HTTP_HOST:$EDGE_STATION_HTTP_PORT   (WeighVision uploads with device credentials; health /health)
  Edge operator   http://$EDGE_HTTP_HOST:$EDGE_HTTP_PORT   (rejects, sync, DLQ with an operator token: npx farmiq operators add --name <you>)
  Cloud HTTP      http://127.0.0.1:$CLOUD_HTTP_PORT   (dashboard, API, edge batches; health /health)
  MQTT broker     $MQTT_URL   (devices: npx farmiq devices add --help)
  S3 (rclone)     $S3_ENDPOINT   bucket $S3_BUCKET, key $S3_ACCESS_KEY
  RabbitMQ        $(url_part "$AMQP_URL" host):$(url_part "$AMQP_URL" port 5672) vhost $(url_part "$AMQP_URL" path)
  Postgres        $(url_part "$EDGE_DATABASE_URL" host):$(url_part "$EDGE_DATABASE_URL" port 5432) $(url_part "$EDGE_DATABASE_URL" path), $(url_part "$CLOUD_DATABASE_URL" path)
  Health          mqtt-bridge http://127.0.0.1:$BRIDGE_HEALTH_PORT/health
                  edge-worker http://127.0.0.1:$EDGE_WORKER_HEALTH_PORT/health
                  cloud-worker http://127.0.0.1:$CLOUD_WORKER_HEALTH_PORT/health
                  cloud-consumers http://127.0.0.1:$CLOUD_CONSUMERS_HEALTH_PORT/health
                  notifications http://127.0.0.1:$NOTIFICATIONS_HEALTH_PORT/health
  Logs            $LOG_DIR/<name>.log     pids $PID_DIR
  Secrets         $FARMIQ_SECRETS_FILE   (generated for this install, mode 0600; read by the scripts, processes and tests)
  Status / stop   make status / make down
INFO
if [[ -n "$demo_info" ]]; then
  cat <<DEMO
  Demo farm       demo/farm.json, devices played by the simulator (health http://127.0.0.1:$SIMULATOR_HEALTH_PORT/health)
                  sign in as (farmiq demo sign-in; FARMIQ_DEMO=0 make up leaves the demo out, farmiq demo remove deletes it):
$demo_info
DEMO
fi
