#!/usr/bin/env bash
# Stops servers started by stack/start.sh for the same STATE_DIR.
#
# Usage: stack/stop.sh STATE_DIR [etcd|kube|temporal|moto|all ...]   (default: all)
#
# Each server gets SIGTERM (to its whole process group) and STOP_GRACE_SECONDS
# (default 10) to exit before SIGKILL. State (etcd data, temporal.db, certs)
# is kept, so stack/start.sh STATE_DIR brings the same stack back; delete
# STATE_DIR to throw it away. Stopping something that is not running is fine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 && -n "$1" ]] || die "usage: $0 STATE_DIR [etcd|kube|temporal|moto ...]"
STATE="$1"
shift
select_components "$@"
[[ -d "$STATE/run" ]] || exit 0
lock_state_dir "$STATE"

stop_one() {
  local c="$1" pidfile="$STATE/run/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  pid_alive "$pidfile" && log "stopping $c (pid $(head -n1 "$pidfile"))"
  stop_daemon "$pidfile" "$c" "${STOP_GRACE_SECONDS:-10}"
}

t0=$(now_ms)
# Servers shut down gracefully in a second or so each; stop them side by side,
# except etcd, which goes last so the API server does not spend its shutdown
# logging lost-connection errors.
stop_etcd=0
for c in "${COMPONENTS[@]}"; do
  if [[ "$c" == etcd ]]; then
    stop_etcd=1
  else
    stop_one "$c" &
  fi
done
wait
((stop_etcd)) && stop_one etcd
log "stopped ${COMPONENTS[*]} in $(($(now_ms) - t0)) ms"
