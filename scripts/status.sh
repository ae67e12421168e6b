#!/usr/bin/env bash
# make status: each server and FarmIQ process, running or not, with its address and log; for each
# process also the code version and Node it was started with, the configuration files it read and
# whether its configuration is stale (what `make up` would restart; docs/runtime.md).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

say "servers (FARMIQ_HOME=$FARMIQ_HOME)"
bash scripts/services.sh status | sed 's/^/  /'
say "node: $(node_summary)"
say "processes"
bash scripts/apps.sh status | sed 's/^/  /'
say "edge-http listeners: stations $EDGE_STATION_HTTP_HOST:$EDGE_STATION_HTTP_PORT (device credentials), operators $EDGE_HTTP_HOST:$EDGE_HTTP_PORT (operator token)"
say "logs: $LOG_DIR"
