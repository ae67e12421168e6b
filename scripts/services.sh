#!/usr/bin/env bash
# The servers FarmIQ talks to, on 127.0.0.1, state under FARMIQ_HOME (default .run/):
#   postgres  Debian cluster (15/main or whichever exists); role, databases, migrations
#   rabbitmq  own node farmiq-5672@localhost, data .run/rabbitmq, vhosts farmiq + farmiq_test
#   mosquitto the project's config (auth, ACL, persistence) rendered into .run/mosquitto
#   temporal  `temporal server start-dev` with SQLite in .run/temporal and the Web UI
#   s3        `rclone serve s3` with data in .run/s3
#
#   scripts/services.sh start|stop|status [service...]
#
# Starting is idempotent (a running service is left alone) and waits until each is really ready.
# FARMIQ_SKIP_<NAME>=1 (POSTGRES, RABBITMQ, MOSQUITTO, TEMPORAL, S3) leaves a service to you.
# `stop` stops only what these scripts started (pid files; for Postgres a marker), so a cluster
# that was already running for other projects keeps running.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

all_services=(postgres rabbitmq mosquitto temporal s3)

# ==================================================================================================
# Postgres
# ==================================================================================================
pg_cluster() { # "VERSION NAME PORT STATUS" of the cluster to use: the one on the URLs' port, else the first
  pg_lsclusters -h 2>/dev/null | awk -v p="$(url_part "$EDGE_DATABASE_URL" port 5432)" '
    NR == 1 { first = $1 " " $2 " " $3 " " $4 }
    $3 == p { print $1, $2, $3, $4; found = 1; exit }
    END { if (!found && first != "") print first }'
}

# psql as the postgres superuser (from / so it never warns about an unreadable working directory).
psql_admin() { (cd / && as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"); }

# Ingest writes ~1 KB of WAL per reading; with Debian's defaults (128 MB shared_buffers, 1 GB
# max_wal_size) frequent checkpoints turn most of it into full-page images. These settings halved
# the WAL per reading in bench/ingest.ts. FARMIQ_PG_TUNE=0 leaves a cluster you share untouched.
postgres_tune() {
  local version="$1" name="$2" restart=0 setting want have
  [[ "${FARMIQ_PG_TUNE:-1}" == 1 ]] || return 0
  declare -A wanted=([shared_buffers]=1GB [wal_buffers]=32MB [max_wal_size]=4GB [checkpoint_timeout]=15min [wal_compression]=lz4)
  for setting in "${!wanted[@]}"; do
    want="${wanted[$setting]}"
    have="$(psql_admin -tAc "SHOW $setting")"
    [[ "$have" == "$want" ]] && continue
    psql_admin -c "ALTER SYSTEM SET $setting = '$want'"
    say "postgres: $setting $have -> $want"
    [[ "$setting" == shared_buffers || "$setting" == wal_buffers ]] && restart=1
  done
  if ((restart)); then
    step "postgres: restarting cluster $version/$name for the new memory settings"
    pg_ctlcluster "$version" "$name" restart >>"$LOG_DIR/postgres.log" 2>&1 \
      || fail_start postgres "/var/log/postgresql/postgresql-$version-$name.log" "restart after tuning failed"
    wait_until postgres "/var/log/postgresql/postgresql-$version-$name.log" 60 - as_postgres pg_isready -q -p "$PG_PORT"
  else
    psql_admin -c "SELECT pg_reload_conf()" >/dev/null
  fi
}

# postgres_sync_password ROLE PASSWORD: unless ROLE already logs in with PASSWORD over TCP, set it.
# The superuser's ALTER does not end the sessions open under the old password.
postgres_sync_password() {
  local user="$1" password="$2" host
  host="$(url_part "$EDGE_DATABASE_URL" host)"
  if [[ -n "$password" ]] && PGPASSWORD="$password" PGCONNECT_TIMEOUT=5 psql -X -q -w -h "$host" -p "$PG_PORT" -U "$user" -d postgres \
    -tAc 'SELECT 1' >/dev/null 2>&1; then
    return 0
  fi
  psql_admin -c "ALTER ROLE \"$user\" PASSWORD '${password//\'/\'\'}'" >/dev/null
  say "postgres: set the password of role $user to this install's ($FARMIQ_SECRETS_FILE)"
}

postgres_start() {
  local log="$LOG_DIR/postgres.log" version name status
  command -v pg_lsclusters >/dev/null || die "postgres: pg_lsclusters not found (run make setup)"
  read -r version name PG_PORT status <<<"$(pg_cluster)" || true
  if [[ -z "${version:-}" ]]; then
    step "postgres: no cluster found; creating one"
    version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1)"
    pg_createcluster "$version" main >>"$log" 2>&1 || fail_start postgres "$log" "pg_createcluster $version main failed"
    read -r version name PG_PORT status <<<"$(pg_cluster)"
  fi
  if [[ "$status" == online* ]]; then
    say "postgres: cluster $version/$name already running on port $PG_PORT"
  else
    step "postgres: starting cluster $version/$name"
    pg_ctlcluster "$version" "$name" start >>"$log" 2>&1 \
      || fail_start postgres "/var/log/postgresql/postgresql-$version-$name.log" "pg_ctlcluster $version $name start failed (see also $log)"
    printf '%s %s\n' "$version" "$name" >"$PID_DIR/postgres.started"
  fi
  wait_until postgres "/var/log/postgresql/postgresql-$version-$name.log" 60 - as_postgres pg_isready -q -p "$PG_PORT"
  [[ "$(url_part "$EDGE_DATABASE_URL" port 5432)" == "$PG_PORT" ]] \
    || warn "postgres: cluster $version/$name listens on $PG_PORT but EDGE_DATABASE_URL names port $(url_part "$EDGE_DATABASE_URL" port 5432)"

  postgres_tune "$version" "$name"

  # Roles and databases from the URLs: created if missing. Roles are cluster-wide and this cluster
  # may be shared with other checkouts (or CI's fresh clone) that set other passwords, so each role
  # that cannot log in with this install's password (secrets.env) is given it again, every start.
  local url user password db
  declare -A roles=()
  local urls=("$EDGE_DATABASE_URL" "$CLOUD_DATABASE_URL" "$TEST_EDGE_DATABASE_URL" "$TEST_CLOUD_DATABASE_URL")
  for url in "${urls[@]}"; do roles["$(url_part "$url" user)"]="$(url_part "$url" password)"; done
  for user in "${!roles[@]}"; do
    password="${roles[$user]}"
    if [[ -z "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '${user//\'/\'\'}'")" ]]; then
      psql_admin -c "CREATE ROLE \"$user\" LOGIN CREATEDB PASSWORD '${password//\'/\'\'}'"
      say "postgres: created role $user"
    else
      postgres_sync_password "$user" "$password"
    fi
  done
  # The dashboard's role (auth/tenant-db.ts): it may log in but can never bypass row-level
  # security. Created here by the superuser because the migrating role may not create roles.
  local app_user app_password
  app_user="$(url_part "$CLOUD_APP_DATABASE_URL" user)"
  app_password="$(url_part "$CLOUD_APP_DATABASE_URL" password)"
  if [[ -z "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '${app_user//\'/\'\'}'")" ]]; then
    psql_admin -c "CREATE ROLE \"$app_user\" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${app_password//\'/\'\'}'"
    say "postgres: created role $app_user (row-level security applies)"
  else
    postgres_sync_password "$app_user" "$app_password"
  fi
  for url in "${urls[@]}"; do
    db="$(url_part "$url" path)"
    user="$(url_part "$url" user)"
    if [[ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '${db//\'/\'\'}'")" ]]; then
      psql_admin -c "CREATE DATABASE \"$db\" OWNER \"$user\""
      say "postgres: created database $db"
    fi
  done
}

postgres_migrate() {
  step "migrations"
  local out="$RUN_DIR/migrate" rc=0 i
  mkdir -p "$out"
  # Three databases at once (each run takes the migration lock of its own database).
  npx tsx db/migrate.ts all >"$out/0.log" 2>&1 &
  local p0=$!
  npx tsx db/migrate.ts edge --url "$TEST_EDGE_DATABASE_URL" >"$out/1.log" 2>&1 &
  local p1=$!
  npx tsx db/migrate.ts cloud --url "$TEST_CLOUD_DATABASE_URL" >"$out/2.log" 2>&1 &
  local p2=$!
  wait "$p0" || rc=1
  wait "$p1" || rc=1
  wait "$p2" || rc=1
  cat "$out/0.log"
  for i in 1 2; do sed 's/^/(test) /' "$out/$i.log"; done
  ((rc == 0)) || die "migrations failed (output above)"
}

postgres_up() {
  if ! skipped POSTGRES; then postgres_start; fi
  postgres_migrate
}

postgres_stop() {
  skipped POSTGRES && return 0
  local marker="$PID_DIR/postgres.started" version name
  if [[ -f "$marker" ]]; then
    read -r version name <"$marker"
    step "postgres: stopping cluster $version/$name"
    pg_ctlcluster "$version" "$name" stop -m fast 2>/dev/null || true
    rm -f "$marker"
  else
    say "postgres: not started by FarmIQ; left running"
  fi
}

postgres_status() {
  local version name port status
  read -r version name port status <<<"$(pg_cluster)" || true
  if [[ -z "${version:-}" ]]; then say "postgres   no cluster"; return; fi
  say "postgres   $status (cluster $version/$name, port $port$([[ -f "$PID_DIR/postgres.started" ]] && printf ', started by FarmIQ'))"
}

# ==================================================================================================
# RabbitMQ: its own node (farmiq-<port>@localhost) with data in .run/rabbitmq, run directly as the
# invoking user. Debian's wrapper (/usr/sbin/rabbitmq*) would su to 'rabbitmq' and use the cookie
# in /var/lib/rabbitmq; we call the real scripts with HOME=.run/rabbitmq so the server and
# rabbitmqctl share one Erlang cookie there, whoever runs them.
# ==================================================================================================
RABBIT_DIR="$RUN_DIR/rabbitmq"
RABBIT_BIN=/usr/lib/rabbitmq/bin
RABBIT_PORT="$(url_part "$AMQP_URL" port 5672)"
# The node name carries the port, so two checkouts on one machine (different AMQP ports) do not
# collide in epmd.
RABBIT_NODE="farmiq-$RABBIT_PORT@localhost"
RABBIT_ENV=(
  HOME="$RABBIT_DIR"
  RABBITMQ_NODENAME="$RABBIT_NODE"
  RABBITMQ_NODE_IP_ADDRESS="$(url_part "$AMQP_URL" host)"
  RABBITMQ_NODE_PORT="$RABBIT_PORT"
  RABBITMQ_DIST_PORT="$((RABBIT_PORT + 20000))"
  RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia"
  RABBITMQ_LOG_BASE="$LOG_DIR"
  RABBITMQ_LOGS="$LOG_DIR/rabbitmq.log"
  RABBITMQ_PID_FILE="$RABBIT_DIR/rabbitmq.erlang.pid"
  RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins"
  RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq"
  RABBITMQ_ADVANCED_CONFIG_FILE="$RABBIT_DIR/advanced.config"
  # Erlang's port mapper and the node's distribution port on loopback only.
  ERL_EPMD_ADDRESS=127.0.0.1
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
)
rabbitmqctl_() { env "${RABBIT_ENV[@]}" "$RABBIT_BIN/rabbitmqctl" -n "$RABBIT_NODE" "$@"; }

# A node that is already running keeps the name it was started with (an earlier AMQP port, or an
# older version of this script): talk to it under that name.
adopt_running_rabbit_node() {
  local pid name
  pid="$(running_pid rabbitmq rabbitmq-serv)" || return 0
  name="$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^RABBITMQ_NODENAME=//p' | head -1)"
  if [[ -n "$name" ]]; then RABBIT_NODE="$name"; fi
}

rabbitmq_launch() {
  skipped RABBITMQ && return 0
  local host port
  host="$(url_part "$AMQP_URL" host)"
  port="$(url_part "$AMQP_URL" port 5672)"
  if running_pid rabbitmq rabbitmq-serv >/dev/null; then
    say "rabbitmq: already running (pid $(running_pid rabbitmq rabbitmq-serv))"
    return 0
  fi
  [[ -x "$RABBIT_BIN/rabbitmq-server" ]] || die "rabbitmq: $RABBIT_BIN/rabbitmq-server not found (run make setup)"
  if port_open "$host" "$port"; then
    die "rabbitmq: port $port is in use by $(port_owner "$port" || echo 'another process'), not started by FarmIQ. Stop it (e.g. systemctl stop rabbitmq-server) or set FARMIQ_SKIP_RABBITMQ=1 to use it."
  fi
  mkdir -p "$RABBIT_DIR/mnesia"
  [[ -f "$RABBIT_DIR/enabled_plugins" ]] || printf '[].\n' >"$RABBIT_DIR/enabled_plugins"
  : >"$RABBIT_DIR/rabbitmq.conf"
  step "rabbitmq: starting node $RABBIT_NODE on $host:$port"
  start_detached rabbitmq "$LOG_DIR/rabbitmq.out.log" env "${RABBIT_ENV[@]}" "$RABBIT_BIN/rabbitmq-server"
}

rabbitmq_await() {
  skipped RABBITMQ && return 0
  local pid vhost user password
  pid="$(running_pid rabbitmq rabbitmq-serv)" || fail_start rabbitmq "$LOG_DIR/rabbitmq.out.log" "not running"
  adopt_running_rabbit_node
  wait_until rabbitmq "$LOG_DIR/rabbitmq.out.log" "$FARMIQ_START_TIMEOUT" "$pid" rabbitmqctl_ -q await_startup --timeout 5
  user="$(url_part "$AMQP_URL" user)"
  password="$(url_part "$AMQP_URL" password)"
  if ! rabbitmqctl_ -q list_users | awk '{print $1}' | grep -qx "$user"; then
    rabbitmqctl_ -q add_user "$user" "$password" >/dev/null
    rabbitmqctl_ -q set_user_tags "$user" administrator >/dev/null
    say "rabbitmq: created user $user"
  elif ! rabbitmqctl_ -q authenticate_user "$user" "$password" >/dev/null 2>&1; then
    # A node kept from before secrets.env (or another install's): this install's password wins.
    rabbitmqctl_ -q change_password "$user" "$password" >/dev/null
    say "rabbitmq: set the password of user $user to this install's ($FARMIQ_SECRETS_FILE)"
  fi
  for vhost in "$(url_part "$AMQP_URL" path)" "$TEST_AMQP_VHOST"; do
    vhost="${vhost:-/}"
    if ! rabbitmqctl_ -q list_vhosts | grep -qx "$vhost"; then
      rabbitmqctl_ -q add_vhost "$vhost" >/dev/null
      say "rabbitmq: created vhost $vhost"
    fi
    rabbitmqctl_ -q set_permissions -p "$vhost" "$user" '.*' '.*' '.*' >/dev/null
  done
  say "rabbitmq: ready (amqp://$(url_part "$AMQP_URL" host):$(url_part "$AMQP_URL" port 5672), vhosts $(url_part "$AMQP_URL" path) $TEST_AMQP_VHOST)"
}

rabbitmq_stop() {
  skipped RABBITMQ && return 0
  local pid
  if pid="$(running_pid rabbitmq rabbitmq-serv)"; then
    adopt_running_rabbit_node
    step "rabbitmq: stopping node $RABBIT_NODE"
    rabbitmqctl_ -q stop >/dev/null 2>&1 || true
    stop_pid rabbitmq "$pid" 30
    # epmd (Erlang's port mapper) outlives the node; leave it only if another node still uses it.
    env "${RABBIT_ENV[@]}" epmd -names 2>/dev/null | grep -q '^name ' || env "${RABBIT_ENV[@]}" epmd -kill >/dev/null 2>&1 || true
  else
    rm -f "$(pid_file rabbitmq)"
  fi
}

rabbitmq_status() {
  local pid
  if pid="$(running_pid rabbitmq rabbitmq-serv)"; then
    say "rabbitmq   running (pid $pid, amqp://$(url_part "$AMQP_URL" host):$(url_part "$AMQP_URL" port 5672))"
  else
    say "rabbitmq   stopped"
  fi
}

# ==================================================================================================
# Mosquitto with the project's config, password file and ACL (farmiq devices render)
# ==================================================================================================
MQTT_DIR="$RUN_DIR/mosquitto"
mosquitto_up() {
  skipped MOSQUITTO && return 0
  local host port pid log="$LOG_DIR/mosquitto.log"
  host="$(url_part "$MQTT_URL" host)"
  port="$(url_part "$MQTT_URL" port 1883)"
  command -v mosquitto >/dev/null || die "mosquitto not found (run make setup)"
  mkdir -p "$MQTT_DIR/data"
  # Rendered on every start, so a changed template or new devices take effect (a running broker
  # is sent SIGHUP by the renderer; listener changes need a restart).
  "$FARMIQ_REPO/bin/farmiq" devices render 2>&1 | sed 's/^/mosquitto: /'
  if pid="$(running_pid mosquitto mosquitto)"; then
    say "mosquitto: already running (pid $pid)"
    return 0
  fi
  if port_open "$host" "$port"; then
    die "mosquitto: port $port is in use by $(port_owner "$port" || echo 'another process'), not started by FarmIQ. Stop it (e.g. systemctl stop mosquitto) or set FARMIQ_SKIP_MOSQUITTO=1 to use your own broker."
  fi
  step "mosquitto: starting on $host:$port"
  rm -f "$(pid_file mosquitto)"
  printf '\n=== %s starting mosquitto ===\n' "$(date -Is)" >>"$log"
  mosquitto -c "$MQTT_DIR/mosquitto.conf" -d >>"$log" 2>&1 || fail_start mosquitto "$log" "mosquitto -c $MQTT_DIR/mosquitto.conf -d failed"
  wait_until mosquitto "$log" 15 - port_open "$host" "$port"
  say "mosquitto: ready (mqtt://$host:$port, pid $(running_pid mosquitto mosquitto || echo '?'))"
}

mosquitto_stop() {
  skipped MOSQUITTO && return 0
  local pid
  # SIGTERM (sent by the stop loop below) makes Mosquitto write its persistence file first.
  if pid="$(running_pid mosquitto mosquitto)"; then
    stop_pid mosquitto "$pid" 15
  fi
}

mosquitto_status() {
  local pid
  if pid="$(running_pid mosquitto mosquitto)"; then
    say "mosquitto  running (pid $pid, $MQTT_URL, config $MQTT_DIR/mosquitto.conf)"
  else
    say "mosquitto  stopped"
  fi
}

# ==================================================================================================
# Temporal dev server (SQLite file, Web UI), namespaces and search attributes
# ==================================================================================================
temporal_host() { printf '%s' "${TEMPORAL_ADDRESS%:*}"; }
temporal_port() { printf '%s' "${TEMPORAL_ADDRESS##*:}"; }
temporal_ns_ready() { "$(temporal_cli)" operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_EDGE_NAMESPACE"; }
# The server answers, whatever namespaces it has (ours may not exist yet: temporal_await creates them).
temporal_serving() { "$(temporal_cli)" operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null | grep -q SERVING; }

TEMPORAL_FOREIGN=0
temporal_launch() {
  skipped TEMPORAL && return 0
  local cli
  cli="$(temporal_cli)"
  [[ -x "$cli" ]] || die "temporal: CLI $cli not found (run make setup, or set TEMPORAL_CLI_PATH)"
  if running_pid temporal temporal >/dev/null; then
    say "temporal: already running (pid $(running_pid temporal temporal))"
    return 0
  fi
  if port_open "$(temporal_host)" "$(temporal_port)"; then
    if temporal_ns_ready >/dev/null 2>&1; then
      # Someone else's Temporal (a dev server of your own) with our namespace: use it as it is.
      TEMPORAL_FOREIGN=1
      warn "temporal: a server not started by FarmIQ ($(port_owner "$(temporal_port)" || echo unknown)) already serves $TEMPORAL_ADDRESS; using it (make down leaves it running)"
      return 0
    fi
    die "temporal: port $(temporal_port) is in use by $(port_owner "$(temporal_port)" || echo 'another process') without namespace $TEMPORAL_EDGE_NAMESPACE. Stop it or set FARMIQ_SKIP_TEMPORAL=1."
  fi
  mkdir -p "$RUN_DIR/temporal"
  step "temporal: starting dev server on $TEMPORAL_ADDRESS (UI $TEMPORAL_UI_URL) with $cli"
  start_detached temporal "$LOG_DIR/temporal.log" "$cli" server start-dev \
    --ip "$(temporal_host)" --port "$(temporal_port)" \
    --ui-ip "$(url_part "$TEMPORAL_UI_URL" host)" --ui-port "$(url_part "$TEMPORAL_UI_URL" port 8233)" \
    --db-filename "$RUN_DIR/temporal/temporal.db" \
    --namespace "$TEMPORAL_EDGE_NAMESPACE" --namespace "$TEMPORAL_CLOUD_NAMESPACE" \
    --dynamic-config-value system.enableActivityEagerExecution=true \
    --log-level warn
}

temporal_await() {
  skipped TEMPORAL && return 0
  local cli pid="-" ns name type existing
  cli="$(temporal_cli)"
  mkdir -p "$RUN_DIR/temporal"
  if [[ "$TEMPORAL_FOREIGN" == 0 ]]; then
    pid="$(running_pid temporal temporal)" || fail_start temporal "$LOG_DIR/temporal.log" "not running"
  fi
  wait_until temporal "$LOG_DIR/temporal.log" "$FARMIQ_START_TIMEOUT" "$pid" temporal_serving
  # Both namespaces (a server started here has them; one started earlier with other names, or
  # someone else's, gets them now), then the custom search attributes from one list
  # (infra/temporal/search-attributes.txt); creating one that exists is a no-op.
  for ns in "$TEMPORAL_EDGE_NAMESPACE" "$TEMPORAL_CLOUD_NAMESPACE"; do
    if ! "$cli" operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$ns" >/dev/null 2>&1; then
      "$cli" operator namespace create --address "$TEMPORAL_ADDRESS" -n "$ns" >/dev/null
      # A new namespace reaches every part of the server within seconds; search attributes need it there.
      wait_until temporal "$LOG_DIR/temporal.log" 60 "$pid" "$cli" operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$ns"
      say "temporal: created namespace $ns"
    fi
    existing="$("$cli" operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$ns" -o json 2>/dev/null || true)"
    while read -r name type; do
      [[ -z "$name" || "$name" == \#* ]] && continue
      grep -q "\"$name\"" <<<"$existing" && continue
      "$cli" operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$ns" --name "$name" --type "$type" >/dev/null 2>"$RUN_DIR/temporal/sa.err" \
        || grep -qi 'already exists' "$RUN_DIR/temporal/sa.err" \
        || { cat "$RUN_DIR/temporal/sa.err" >&2; die "temporal: could not create search attribute $name on $ns"; }
    done <"$FARMIQ_REPO/infra/temporal/search-attributes.txt"
  done
  say "temporal: ready ($TEMPORAL_ADDRESS, namespaces $TEMPORAL_EDGE_NAMESPACE $TEMPORAL_CLOUD_NAMESPACE, search attributes $(grep -vcE '^(#|$)' "$FARMIQ_REPO/infra/temporal/search-attributes.txt"))"
}

temporal_stop() {
  skipped TEMPORAL && return 0
  local pid
  if pid="$(running_pid temporal temporal)"; then
    stop_pid temporal "$pid" 20
  fi
}

temporal_status() {
  local pid
  if pid="$(running_pid temporal temporal)"; then
    say "temporal   running (pid $pid, $TEMPORAL_ADDRESS, UI $TEMPORAL_UI_URL, data $RUN_DIR/temporal/temporal.db)"
  elif port_open "$(temporal_host)" "$(temporal_port)"; then
    say "temporal   running, not started by FarmIQ ($(port_owner "$(temporal_port)" || echo unknown) on $TEMPORAL_ADDRESS)"
  else
    say "temporal   stopped"
  fi
}

# ==================================================================================================
# S3: rclone serve s3 (see docs/operations.md for why rclone)
# ==================================================================================================
S3_DIR="$RUN_DIR/s3"
# rclone reads its key pair once, at start; a fingerprint of the pair it was started with tells
# whether a running server still has this install's keys.
s3_key_fingerprint() { printf '%s,%s' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" | sha256sum | cut -d' ' -f1; }
s3_launch() {
  skipped S3 && return 0
  local host port pid rclone="$VENV/bin/rclone"
  host="$(url_part "$S3_ENDPOINT" host)"
  port="$(url_part "$S3_ENDPOINT" port 80)"
  if pid="$(running_pid s3 rclone)"; then
    if [[ "$(cat "$S3_DIR/auth-key.sha256" 2>/dev/null)" == "$(s3_key_fingerprint)" ]]; then
      say "s3: already running (pid $pid)"
      mkdir -p "$S3_DIR/data/$S3_BUCKET"
      return 0
    fi
    step "s3: restarting (pid $pid) with this install's key pair ($FARMIQ_SECRETS_FILE)"
    stop_pid s3 "$pid" 10
  fi
  [[ -x "$rclone" ]] || die "s3: $rclone not found (run make setup)"
  if port_open "$host" "$port"; then
    die "s3: port $port is in use by $(port_owner "$port" || echo 'another process'), not started by FarmIQ. Stop it or set FARMIQ_SKIP_S3=1 to use your own S3 at $S3_ENDPOINT."
  fi
  # The bucket is a directory of the served tree.
  mkdir -p "$S3_DIR/data/$S3_BUCKET"
  : >"$S3_DIR/rclone.conf"
  step "s3: starting rclone serve s3 on $host:$port (bucket $S3_BUCKET)"
  # The key pair goes in the environment (RCLONE_AUTH_KEY, one CSV field), not on a command line
  # where every local user's ps would show it.
  local pair="$S3_ACCESS_KEY,$S3_SECRET_KEY"
  (
    export RCLONE_AUTH_KEY="\"${pair//\"/\"\"}\"" RCLONE_CONFIG="$S3_DIR/rclone.conf"
    start_detached s3 "$LOG_DIR/s3.log" "$rclone" serve s3 --addr "$host:$port" "$S3_DIR/data"
  )
  s3_key_fingerprint >"$S3_DIR/auth-key.sha256"
}

s3_await() {
  skipped S3 && return 0
  local pid
  pid="$(running_pid s3 rclone)" || fail_start s3 "$LOG_DIR/s3.log" "not running"
  # Any HTTP answer (an unsigned request gets 403) means it serves.
  wait_until s3 "$LOG_DIR/s3.log" 30 "$pid" http_any "$S3_ENDPOINT/"
  say "s3: ready ($S3_ENDPOINT, bucket $S3_BUCKET, data $S3_DIR/data)"
}

s3_stop() {
  skipped S3 && return 0
  local pid
  if pid="$(running_pid s3 rclone)"; then
    stop_pid s3 "$pid" 10
  fi
}

s3_status() {
  local pid
  if pid="$(running_pid s3 rclone)"; then
    say "s3         running (pid $pid, $S3_ENDPOINT, bucket $S3_BUCKET)"
  else
    say "s3         stopped"
  fi
}

# ==================================================================================================
skipped_quiet() { local var="FARMIQ_SKIP_${1^^}"; [[ "${!var:-0}" == "1" ]]; }

want() { # want NAME: was NAME asked for (no names = all)
  local n
  ((${#selected[@]} == 0)) && return 0
  for n in "${selected[@]}"; do [[ "$n" == "$1" ]] && return 0; done
  return 1
}

cmd="${1:-start}"
shift || true
selected=("$@")
for s in "${selected[@]}"; do
  [[ " ${all_services[*]} " == *" $s "* ]] || die "unknown service $s (one of: ${all_services[*]})"
done
ensure_run_dirs

case "$cmd" in
  start)
    # Slow starters first, in the background; Postgres and Mosquitto meanwhile; then wait for all.
    if want rabbitmq; then rabbitmq_launch; fi
    if want temporal; then temporal_launch; fi
    if want s3; then s3_launch; fi
    if want postgres; then postgres_up; fi
    if want mosquitto; then mosquitto_up; fi
    if want s3; then s3_await; fi
    if want temporal; then temporal_await; fi
    if want rabbitmq; then rabbitmq_await; fi
    ;;
  stop)
    declare -A COMM=([s3]=rclone [temporal]=temporal [mosquitto]=mosquitto)
    # SIGTERM to the independent ones at once, so their shutdowns overlap; each *_stop then waits.
    for s in s3 temporal mosquitto; do
      if want "$s" && ! skipped_quiet "$s" && pid="$(running_pid "$s" "${COMM[$s]}")"; then
        step "$s: stopping (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done
    if want s3; then s3_stop; fi
    if want temporal; then temporal_stop; fi
    if want mosquitto; then mosquitto_stop; fi
    if want rabbitmq; then rabbitmq_stop; fi
    if want postgres; then postgres_stop; fi
    ;;
  status)
    for s in "${all_services[@]}"; do
      if want "$s"; then "${s}_status"; fi
    done
    ;;
  *) die "usage: scripts/services.sh start|stop|status [${all_services[*]}]" ;;
esac
