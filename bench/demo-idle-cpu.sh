#!/usr/bin/env bash
# How much CPU the running stack with the live demo farm uses while nobody looks at it, against
# the machine's own capacity in the same window (nproc cores × seconds):
#   bash bench/demo-idle-cpu.sh [seconds, default 60]      (after `make up`)
# Sums utime + stime from /proc for FarmIQ's processes (the pid files in $FARMIQ_HOME/pids and
# their children: the node processes and the servers) and for the whole machine (/proc/stat).
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
seconds="${1:-60}"
hz="$(getconf CLK_TCK)"
cores="$(nproc)"

farmiq_pids() {
  local f pid
  for f in "$PID_DIR"/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f" 2>/dev/null)" || continue
    [[ -n "$pid" && -d "/proc/$pid" ]] || continue
    printf '%s\n' "$pid"
    pgrep -P "$pid" 2>/dev/null || true
  done | sort -u
}

ticks_of() { # summed utime+stime (and waited-for children) of the given pids
  local total=0 pid fields
  for pid in "$@"; do
    [[ -r "/proc/$pid/stat" ]] || continue
    read -ra fields <<<"$(sed 's/^.*) //' "/proc/$pid/stat")"
    total=$((total + fields[11] + fields[12] + fields[13] + fields[14]))
  done
  printf '%s' "$total"
}

machine_busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }

mapfile -t pids < <(farmiq_pids)
((${#pids[@]})) || die "no FarmIQ process runs (make up first)"
a="$(ticks_of "${pids[@]}")"; m="$(machine_busy_ticks)"
sleep "$seconds"
b="$(ticks_of "${pids[@]}")"; n="$(machine_busy_ticks)"
node -e '
const [hz, cores, secs, farmiq, machine, procs] = process.argv.slice(1).map(Number);
const cpu = farmiq / hz, busy = machine / hz, capacity = cores * secs;
console.log(`window ${secs} s on ${cores} cores (capacity ${capacity} CPU-s), ${procs} FarmIQ processes`);
console.log(`FarmIQ processes: ${cpu.toFixed(1)} CPU-s = ${(100 * cpu / capacity).toFixed(1)} % of the machine`);
console.log(`whole machine busy: ${busy.toFixed(1)} CPU-s = ${(100 * busy / capacity).toFixed(1)} %`);
' "$hz" "$cores" "$seconds" "$((b - a))" "$((n - m))" "${#pids[@]}"
