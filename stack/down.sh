#!/usr/bin/env bash
# `npm run down`: stops what `npm run up` started (operator first, so it does
# not log errors about servers going away). Data stays in .local/ for the next
# `npm run up`; delete that folder to start from nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
STATE="${INFRA_STATE:-$REPO_ROOT/.local}"
for process in watcher worker; do
  stop_daemon "$STATE/run/$process.pid" "$process" 20
done
if [[ -d "$STATE/stack" ]]; then
  bash "$STACK_DIR/stop.sh" "$STATE/stack"
fi
log "stopped"
