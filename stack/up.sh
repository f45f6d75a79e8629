#!/usr/bin/env bash
# `npm run up`: the whole system on the embedded local stack, from a fresh
# machine. Installs what is missing (npm packages, Temporal CLI, kube-apiserver,
# etcd, kubectl, moto), starts the stack, installs the CRDs, starts the
# operator's worker and watcher in the background, and prints how to use it.
# Running it again is harmless: what runs is left alone.
#
# With USE_EXISTING_CLUSTER=1 and KUBECONFIG pointing at a cluster you already
# have, that cluster is used instead of the embedded kube-apiserver.
#
# State, logs and the env file live in .local/ (override with INFRA_STATE).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

STATE="${INFRA_STATE:-$REPO_ROOT/.local}"
mkdir -p "$STATE/run" "$STATE/logs"

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages"
  # npm install, not npm ci: npm 11 writes lock files without other
  # platforms' optional packages (@swc/core-*) and npm ci then refuses them.
  # With every version pinned and the lock file present, install is exact.
  npm install --no-audit --no-fund >&2
fi
bash stack/install.sh

if [[ "${USE_EXISTING_CLUSTER:-0}" == 1 ]]; then
  [[ -n "${KUBECONFIG:-}" ]] || die "USE_EXISTING_CLUSTER=1 needs KUBECONFIG"
  cluster_kubeconfig="$KUBECONFIG"
  bash stack/start.sh "$STATE/stack" temporal moto
else
  bash stack/start.sh "$STATE/stack"
  cluster_kubeconfig="$STATE/stack/kubeconfig"
fi
# shellcheck disable=SC1091
source "$STATE/stack/env"
export KUBECONFIG="$cluster_kubeconfig"
kubectl="$INFRA_BIN/kubectl"

log "installing CRDs"
"$kubectl" apply -f deploy/crds/ >&2
"$kubectl" wait --for=condition=Established --timeout=60s -f deploy/crds/ >&2

for process in worker watcher; do
  pidfile="$STATE/run/$process.pid"
  if pid_alive "$pidfile"; then
    log "$process already running"
    continue
  fi
  # The operator gets the cluster and Temporal, never the stack's fake AWS
  # keys: AWS credentials come from AWSProvider objects only. On this
  # single-user stack every namespace may use the operator's own identity
  # (a production install permits its own namespace only).
  start_daemon "$pidfile" "$STATE/logs/$process.log" \
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY KUBECONFIG="$KUBECONFIG" TEMPORAL_ADDRESS="$TEMPORAL_ADDRESS" \
    AMBIENT_CREDENTIAL_NAMESPACES="${AMBIENT_CREDENTIAL_NAMESPACES:-*}" \
    "$(command -v node)" --import tsx "$process/main.ts"
done

{
  echo "# Written by npm run up; source it to talk to the local system."
  echo "export KUBECONFIG='$KUBECONFIG'"
  echo "export TEMPORAL_ADDRESS='$TEMPORAL_ADDRESS'"
  echo "export AWS_ENDPOINT_URL='$AWS_ENDPOINT_URL'"
  echo "export AWS_ACCESS_KEY_ID='test' AWS_SECRET_ACCESS_KEY='test' AWS_REGION='us-east-1'"
  echo "export PATH='$INFRA_BIN':\"\$PATH\""
} >"$STATE/env"

cat <<TXT

infra-operator is running on the local stack.

  source $STATE/env        # or paste these:
$(sed -n 's/^export /  export /p' "$STATE/env")

  kubectl apply -f examples/provider-local.yaml
  kubectl apply -f examples/s3-bucket.yaml -f examples/sqs-queue.yaml
  kubectl get aws                    # every kind of ours, with Ready and Reason
  kubectl describe s3bucket secure-data-bucket

  Temporal UI:  ${TEMPORAL_UI_URL:-(headless)}   (filter: ResourceKind = 'S3Bucket')
  Logs:         $STATE/logs/{worker,watcher}.log and $STATE/stack/logs/
  Stop:         npm run down
TXT
