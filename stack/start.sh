#!/usr/bin/env bash
# Starts the local stack's real servers in the background:
#   etcd + kube-apiserver (run the way controller-runtime's envtest runs them),
#   the Temporal CLI dev server, and moto's AWS server.
#
# Usage: stack/start.sh STATE_DIR [etcd|kube|temporal|moto|all ...]   (default: all)
#
# Ports come from ETCD_PORT ETCD_PEER_PORT KUBE_PORT TEMPORAL_PORT
# TEMPORAL_UI_PORT MOTO_PORT (defaults 12379 12380 16443 7233 8233 4566), else
# from the last start of the same STATE_DIR. HEADLESS=1 (or TEMPORAL_UI_PORT=0)
# runs Temporal without its web UI. Everything binds to 127.0.0.1 only.
#
# Writes STATE_DIR/env (source it), STATE_DIR/kubeconfig, logs in
# STATE_DIR/logs/<component>.log, pid files in STATE_DIR/run/.
# A component that is already running is left alone, so running this twice is
# harmless. Servers run in their own sessions and outlive the calling shell;
# stop them with stack/stop.sh STATE_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 && -n "$1" ]] || die "usage: $0 STATE_DIR [etcd|kube|temporal|moto ...]"
mkdir -p "$1"
STATE="$(cd "$1" && pwd)"
shift
select_components "$@"

mkdir -p "$STATE/logs" "$STATE/run"
lock_state_dir "$STATE"
load_config "$STATE"

need_bin() {
  [[ -x "$1" ]] || die "$1 not found; run stack/install.sh first"
}

pidfile() { echo "$STATE/run/$1.pid"; }
logfile() { echo "$STATE/logs/$1.log"; }
# Each running component's port is recorded next to its pid file.
portfile() { echo "$STATE/run/$1.port"; }
port_of() {
  case "$1" in
    etcd) echo "$ETCD_PORT" ;;
    kube) echo "$KUBE_PORT" ;;
    temporal) echo "$TEMPORAL_PORT" ;;
    moto) echo "$MOTO_PORT" ;;
  esac
}

# Asking for different ports while components of this state dir are still up
# on the old ones would leave env and kubeconfig pointing at the wrong place;
# refuse before anything is rewritten.
for c in "${STACK_COMPONENTS[@]}"; do
  if pid_alive "$(pidfile "$c")" && [[ -f "$(portfile "$c")" ]] &&
    [[ "$(cat "$(portfile "$c")")" != "$(port_of "$c")" ]]; then
    die "$c is running on port $(cat "$(portfile "$c")") but port $(port_of "$c") was asked for; stop it first (stack/stop.sh $STATE $c)"
  fi
done
save_config "$STATE"

# Returns 0 if the component is already up (and says so), so callers skip it.
already_running() {
  if pid_alive "$(pidfile "$1")"; then
    log "$1 already running (pid $(head -n1 "$(pidfile "$1")"))"
    return 0
  fi
  rm -f "$(pidfile "$1")"
  return 1
}

# A port held by something else makes the server fail with an error buried in
# its log; say it plainly instead.
require_free_port() {
  if port_open 127.0.0.1 "$2"; then
    die "$1: port $2 on 127.0.0.1 is already in use by another process"
  fi
}

# Also stops a server that is up but never became ready, so a failed start
# leaves nothing running and the next start.sh begins from scratch.
failed() {
  stop_daemon "$(pidfile "$1")" "$1" 5
  log_tail "$(logfile "$1")"
  die "$1 failed to start; full log: $(logfile "$1")"
}

# Marks the log so a restart's output is easy to tell from the previous run's.
log_header() {
  printf '\n===== %s: starting %s =====\n' "$(date -u +%FT%TZ)" "$1" >>"$(logfile "$1")"
}

# --- etcd -----------------------------------------------------------------

start_etcd() {
  already_running etcd && return
  local bin="$INFRA_BIN/etcd"
  need_bin "$bin"
  require_free_port etcd "$ETCD_PORT"
  require_free_port etcd-peer "$ETCD_PEER_PORT"
  log_header etcd
  local url="http://127.0.0.1:$ETCD_PORT" peer="http://127.0.0.1:$ETCD_PEER_PORT"
  # --unsafe-no-fsync: this is throwaway test data; fsync dominates write
  # latency and the API server's watch latency with it.
  start_daemon "$(pidfile etcd)" "$(logfile etcd)" "$bin" \
    --name default \
    --data-dir "$STATE/etcd" \
    --listen-client-urls "$url" --advertise-client-urls "$url" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "default=$peer" \
    --unsafe-no-fsync \
    --log-level warn
  port_of etcd >"$(portfile etcd)"
  wait_for_http "$url/health" 60 "$(pidfile etcd)" || failed etcd
  log "etcd ready on $url"
}

# --- kube-apiserver -------------------------------------------------------

# Certificates are made once per state dir: a restarted API server must keep
# its CA, or every kubeconfig and client handed out earlier stops working.
make_certs() {
  local d="$STATE/certs"
  [[ -f "$d/.complete" ]] && return
  log "generating CA, serving and client certificates in $d"
  rm -rf "$d"
  mkdir -p "$d"
  (
    cd "$d"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout ca.key -out ca.crt -subj "/CN=infra-operator-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"

    # 10.0.0.1 and the kubernetes.default names are the in-cluster identities
    # (first IP of --service-cluster-ip-range); nothing uses them locally but
    # the API server expects its serving cert to cover them.
    cat >serving.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
    openssl x509 -req -sha256 -days 3650 -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -extfile serving.ext -out apiserver.crt

    # O=system:masters is bound to cluster-admin by the default RBAC policy.
    cat >client.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=admin"
    openssl x509 -req -sha256 -days 3650 -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -extfile client.ext -out admin.crt

    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    rm -f ./*.csr ./*.ext ca.srl
  ) >"$STATE/logs/openssl.log" 2>&1 || {
    log_tail "$STATE/logs/openssl.log"
    die "openssl failed generating certificates"
  }
  touch "$d/.complete"
}

write_kubeconfig() {
  local d="$STATE/certs" tmp="$STATE/kubeconfig.tmp"
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: infra-operator-local
  cluster:
    server: https://127.0.0.1:$KUBE_PORT
    certificate-authority-data: $(base64 -w0 "$d/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$d/admin.crt")
    client-key-data: $(base64 -w0 "$d/admin.key")
contexts:
- name: infra-operator-local
  context:
    cluster: infra-operator-local
    user: admin
    namespace: default
current-context: infra-operator-local
EOF
  chmod 600 "$tmp"
  mv -f "$tmp" "$STATE/kubeconfig"
}

kube_readyz() {
  local d="$STATE/certs" body
  body="$(curl -fsS --max-time 5 --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" \
    "https://127.0.0.1:$KUBE_PORT/readyz")" && [[ "$body" == ok ]]
}

start_kube() {
  if already_running kube; then
    [[ -f "$STATE/kubeconfig" ]] || write_kubeconfig
    return
  fi
  local bin="$INFRA_BIN/kube-apiserver"
  need_bin "$bin"
  need_bin "$INFRA_BIN/kubectl"
  # The API server is useless without etcd and would just crash-loop its
  # storage init, so bring etcd up first even when only kube was asked for.
  pid_alive "$(pidfile etcd)" || start_etcd
  require_free_port kube-apiserver "$KUBE_PORT"
  make_certs
  write_kubeconfig
  log_header kube
  local d="$STATE/certs"
  # The flags follow controller-runtime's envtest. One addition:
  # --endpoint-reconciler-type none, because the "kubernetes" Service's
  # endpoint cannot be a loopback address and the reconciler would log that
  # error every 10 s; nothing here runs in-cluster and needs that endpoint.
  start_daemon "$(pidfile kube)" "$(logfile kube)" "$bin" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --cert-dir "$d" \
    --tls-cert-file "$d/apiserver.crt" --tls-private-key-file "$d/apiserver.key" \
    --client-ca-file "$d/ca.crt" \
    --service-account-key-file "$d/sa.pub" \
    --service-account-signing-key-file "$d/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range 10.0.0.0/24 \
    --authorization-mode RBAC \
    --disable-admission-plugins ServiceAccount \
    --secure-port "$KUBE_PORT" \
    --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 \
    --allow-privileged=true \
    --endpoint-reconciler-type none
  port_of kube >"$(portfile kube)"
  wait_for 120 "kube-apiserver /readyz" "$(pidfile kube)" kube_readyz || failed kube
  # /readyz can pass a moment before the bootstrap controller has created the
  # default namespace, which every test will want to use.
  wait_for 60 "namespace default" "$(pidfile kube)" \
    "$INFRA_BIN/kubectl" --kubeconfig "$STATE/kubeconfig" get namespace default || failed kube
  log "kube-apiserver ready on https://127.0.0.1:$KUBE_PORT (kubeconfig $STATE/kubeconfig)"
}

# --- Temporal -------------------------------------------------------------

# Custom search attributes the operator's workflows are indexed by. start-dev
# registers them at every start; on a restart with an existing db that is a
# no-op for attributes that already exist with the same type.
TEMPORAL_SEARCH_ATTRIBUTES=(
  ResourceKind=Keyword
  ResourceNamespace=Keyword
  ResourceName=Keyword
  ResourcePhase=Keyword
  AwsAccount=Keyword
  AwsRegion=Keyword
)

temporal_ready() {
  local bin="$1" addr="127.0.0.1:$TEMPORAL_PORT" sa
  "$bin" operator namespace describe --namespace default --address "$addr" >/dev/null 2>&1 || return 1
  # The attributes reach the visibility store's cache a little after the
  # namespace answers; a workflow started before then would be rejected.
  sa="$("$bin" operator search-attribute list --namespace default --address "$addr" 2>/dev/null)" || return 1
  local a
  for a in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    grep -q "\b${a%%=*}\b" <<<"$sa" || return 1
  done
}

start_temporal() {
  already_running temporal && return
  local bin="$INFRA_BIN/temporal"
  need_bin "$bin"
  require_free_port temporal "$TEMPORAL_PORT"
  local args=(
    server start-dev
    --ip 127.0.0.1
    --port "$TEMPORAL_PORT"
    --db-filename "$STATE/temporal.db"
    # start-dev always creates "default"; naming it again is accepted (checked
    # on v1.5.1, fresh and existing db) and documents what tests rely on.
    --namespace default
    --log-level warn
  )
  if [[ "$HEADLESS" == 1 ]]; then
    args+=(--headless)
  else
    require_free_port temporal-ui "$TEMPORAL_UI_PORT"
    args+=(--ui-port "$TEMPORAL_UI_PORT")
  fi
  local a
  for a in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    args+=(--search-attribute "$a")
  done
  log_header temporal
  start_daemon "$(pidfile temporal)" "$(logfile temporal)" "$bin" "${args[@]}"
  port_of temporal >"$(portfile temporal)"
  wait_for_port 127.0.0.1 "$TEMPORAL_PORT" 90 "$(pidfile temporal)" || failed temporal
  wait_for 60 "temporal namespace default" "$(pidfile temporal)" temporal_ready "$bin" || failed temporal
  log "temporal ready on 127.0.0.1:$TEMPORAL_PORT$([[ "$HEADLESS" == 1 ]] || echo ", UI http://127.0.0.1:$TEMPORAL_UI_PORT")"
}

# --- moto -----------------------------------------------------------------

start_moto() {
  already_running moto && return
  local bin="$MOTO_VENV/bin/moto_server"
  need_bin "$bin"
  require_free_port moto "$MOTO_PORT"
  log_header moto
  start_daemon "$(pidfile moto)" "$(logfile moto)" "$bin" -H 127.0.0.1 -p "$MOTO_PORT"
  port_of moto >"$(portfile moto)"
  # Any HTTP answer means it is serving; moto keeps its state in memory only,
  # so a restart starts from an empty AWS account.
  wait_for 60 "moto" "$(pidfile moto)" http_answers "http://127.0.0.1:$MOTO_PORT/moto-api/" || failed moto
  log "moto ready on http://127.0.0.1:$MOTO_PORT"
}

# --- env file -------------------------------------------------------------

# Written after every start, for every component, so sourcing it always gives
# the whole stack's addresses even when only one component was restarted.
write_env() {
  {
    echo "# Written by stack/start.sh; source this file."
    echo "export KUBECONFIG='$STATE/kubeconfig'"
    echo "export TEMPORAL_ADDRESS='127.0.0.1:$TEMPORAL_PORT'"
    echo "export TEMPORAL_NAMESPACE='default'"
    echo "export AWS_ENDPOINT_URL='http://127.0.0.1:$MOTO_PORT'"
    # moto accepts any credentials, but the AWS SDKs refuse to sign without
    # some; fixed fake ones also keep a developer's real ones out of tests.
    echo "export AWS_ACCESS_KEY_ID='test'"
    echo "export AWS_SECRET_ACCESS_KEY='test'"
    echo "export AWS_REGION='us-east-1'"
    if [[ "$HEADLESS" != 1 ]]; then
      echo "export TEMPORAL_UI_URL='http://127.0.0.1:$TEMPORAL_UI_PORT'"
    fi
  } >"$STATE/env.tmp"
  mv -f "$STATE/env.tmp" "$STATE/env"
}

t0=$(now_ms)
for c in "${COMPONENTS[@]}"; do
  tc=$(now_ms)
  "start_$c"
  [[ "${STACK_TIMINGS:-0}" == 1 ]] && log "  ($c took $(($(now_ms) - tc)) ms)"
done
write_env
log "started ${COMPONENTS[*]} in $(($(now_ms) - t0)) ms; source $STATE/env"
