#!/usr/bin/env bash
# make down: FarmIQ's processes first (SIGTERM, grace, SIGKILL), then the servers that
# scripts/services.sh started. Idempotent: what is not running is skipped.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

bash scripts/apps.sh stop
bash scripts/services.sh stop
say "FarmIQ is down (data kept in $FARMIQ_HOME)."
