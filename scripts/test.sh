#!/usr/bin/env bash
# The one test command (`npm test`, and what .ci/run runs): installs what is
# missing, checks types and generated CRDs, then runs unit, workflow and
# integration tests. Integration tests start their own throwaway stack on free
# ports and tear it down.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "==> npm install" >&2
  # npm install, not npm ci: npm 11 writes lock files without other
  # platforms' optional packages (@swc/core-*) and npm ci then refuses them.
  # With every version pinned and the lock file present, install is exact.
  npm install --no-audit --no-fund >&2
fi
echo "==> local stack binaries" >&2
bash stack/install.sh
echo "==> typecheck" >&2
npx tsc -p tsconfig.json --noEmit
echo "==> lint" >&2
npx eslint .
echo "==> generated CRDs are current" >&2
npx tsx crds/generate.ts --check

mapfile -t files < <(find contract process kube crds workflows activities watcher worker test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "==> ${#files[@]} test files" >&2
# One file at a time: the workflow and integration files each start servers,
# and the machine has two cores.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
