#!/usr/bin/env bash
# Installs the local stack's servers into $INFRA_CACHE (default
# ~/.cache/infra-operator), building from package registries only:
#   temporal                     go install of the Temporal CLI (has the dev server)
#   kube-apiserver, etcd, kubectl go build of stack/kube
#   moto                         Python venv with moto[server]
#   helm                         go install of helm.sh/helm/v3/cmd/helm
#   chromium                     Debian's chromium via apt-get (root; only on request)
#
# Usage: stack/install.sh [temporal|kube|moto|helm ...]   (default: all)
#
# Idempotent: each part keeps a stamp of what it was built from and is skipped
# when the stamp still matches, so a second run takes well under a second.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$INFRA_BIN" "$INFRA_STAMPS"

# Parallel test processes may all call install.sh at once; only one may build,
# the others wait and then find the stamps fresh.
exec 9>"$INFRA_CACHE/install.lock"
if ! flock -n 9; then
  log "another install.sh is running; waiting for it"
  flock 9
fi
# Scratch dirs of an install that was killed mid-build; safe under the lock.
rm -rf "$INFRA_CACHE"/build.*

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required but not on PATH ($2)"
}

# Builds go into a scratch dir and are moved into place by rename, so a server
# that is running from the old binary is not hit by "text file busy" and a
# failed build never leaves a half-written binary behind.
new_scratch() {
  mktemp -d "$INFRA_CACHE/build.XXXXXX"
}

install_temporal() {
  local stamp="$INFRA_STAMPS/temporal" want="${TEMPORAL_CLI_VERSION}"
  if [[ -x "$INFRA_BIN/temporal" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    log "temporal $want: up to date"
    return
  fi
  # A temporal already on PATH at exactly the pinned version saves a build.
  local onpath
  onpath="$(command -v temporal 2>/dev/null || true)"
  if [[ -n "$onpath" && "$onpath" != "$INFRA_BIN/temporal" ]] &&
    "$onpath" --version 2>/dev/null | grep -q "version ${want#v} "; then
    log "temporal $want: using $onpath"
    ln -sfn "$onpath" "$INFRA_BIN/temporal"
    echo "$want" >"$stamp"
    return
  fi
  need go "install Go >= 1.25 to build the Temporal CLI"
  log "temporal $want: go install (takes a few minutes the first time)"
  local t0 scratch
  t0=$(now_ms)
  scratch="$(new_scratch)"
  # The version ldflag is what the CLI's release builds set; without it the
  # binary calls itself 0.0.0-DEV.
  if ! GOBIN="$scratch" go install -ldflags="-X github.com/temporalio/cli/temporalcli.Version=${want#v}" \
    "github.com/temporalio/cli/cmd/temporal@$want" >"$scratch/build.log" 2>&1; then
    cat "$scratch/build.log" >&2
    rm -rf "$scratch"
    die "go install of temporal $want failed"
  fi
  mv -f "$scratch/temporal" "$INFRA_BIN/temporal"
  rm -rf "$scratch"
  "$INFRA_BIN/temporal" --version >/dev/null || die "built temporal does not run"
  echo "$want" >"$stamp"
  log "temporal $want: installed in $(($(now_ms) - t0)) ms"
}

# Without these the binaries call themselves v0.0.0-master, which makes
# kubectl warn about version skew and confuses clients that check /version.
kube_ldflags() {
  local major minor pkg flags=""
  IFS=. read -r major minor _ <<<"${KUBE_VERSION#v}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "${flags# }"
}

# What the kube binaries are built from: go.mod/go.sum, and also the cmd
# sources and the ldflags, since a change to either must rebuild just like a
# version bump in go.mod does.
kube_inputs_hash() {
  (
    cd "$KUBE_MODULE_DIR"
    {
      cat go.mod go.sum
      find cmd -type f -name '*.go' | LC_ALL=C sort | xargs cat
      kube_ldflags
    } | sha256sum | cut -d' ' -f1
  )
}

install_kube() {
  [[ -n "$KUBE_VERSION" ]] || die "cannot read the k8s.io/kubernetes version from $KUBE_MODULE_DIR/go.mod"
  local stamp="$INFRA_STAMPS/kube" hash b
  hash="$(kube_inputs_hash)"
  local have_all=1
  for b in kube-apiserver etcd kubectl; do
    [[ -x "$INFRA_BIN/$b" ]] || have_all=0
  done
  if ((have_all)) && [[ "$(cat "$stamp" 2>/dev/null)" == "$hash" ]]; then
    log "kube-apiserver/etcd/kubectl $KUBE_VERSION (etcd $ETCD_VERSION): up to date"
    return
  fi
  need go "install Go >= 1.24 to build kube-apiserver and etcd"
  log "kube-apiserver/etcd/kubectl $KUBE_VERSION: go build (10+ minutes on 2 cores the first time)"
  local ldflags t0 scratch
  ldflags="$(kube_ldflags)"
  t0=$(now_ms)
  scratch="$(new_scratch)"
  if ! (cd "$KUBE_MODULE_DIR" && go build -ldflags="$ldflags" -o "$scratch/" ./cmd/kube-apiserver ./cmd/etcd ./cmd/kubectl) >"$scratch/build.log" 2>&1; then
    cat "$scratch/build.log" >&2
    rm -rf "$scratch"
    die "go build of stack/kube failed"
  fi
  for b in kube-apiserver etcd kubectl; do
    mv -f "$scratch/$b" "$INFRA_BIN/$b"
  done
  rm -rf "$scratch"
  echo "$hash" >"$stamp"
  log "kube-apiserver/etcd/kubectl: built in $(($(now_ms) - t0)) ms"
}

install_moto() {
  local stamp="$MOTO_VENV/.infra-operator-installed"
  if [[ -x "$MOTO_VENV/bin/moto_server" && "$(cat "$stamp" 2>/dev/null)" == "$MOTO_VERSION" ]]; then
    log "moto $MOTO_VERSION: up to date"
    return
  fi
  local python="${PYTHON:-python3}"
  need "$python" "install Python >= 3.9 (set PYTHON to choose one)"
  local t0
  t0=$(now_ms)
  log "moto $MOTO_VERSION: creating venv $MOTO_VENV"
  if [[ ! -x "$MOTO_VENV/bin/python" ]]; then
    "$python" -m venv "$MOTO_VENV" ||
      die "$python -m venv failed (on Debian: apt-get install python3-venv)"
  fi
  "$MOTO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2 ||
    die "pip install moto[server]==$MOTO_VERSION failed"
  "$MOTO_VENV/bin/moto_server" --help >/dev/null || die "installed moto_server does not run"
  echo "$MOTO_VERSION" >"$stamp"
  log "moto $MOTO_VERSION: installed in $(($(now_ms) - t0)) ms"
}

# Debian's chromium, for the Temporal UI browser test (playwright-core drives
# it through executablePath). Not in the default parts: it is a system package
# and needs root, and only that one test uses it. Debian's security archive
# keeps only its newest build, so when the pin below is no longer offered this
# fails naming what is; bump the pin (or set CHROMIUM_VERSION) to that.
CHROMIUM_VERSION="${CHROMIUM_VERSION:-156.0.8078.114-1~deb12u1}"
install_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    log "chromium $(dpkg-query -W -f '${Version}' chromium 2>/dev/null || echo '(not from dpkg)'): present at /usr/bin/chromium"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "/usr/bin/chromium is missing and there is no apt-get here; install Chromium by hand"
  [[ "$(id -u)" == 0 ]] || die "/usr/bin/chromium is missing; installing Debian's chromium needs root: sudo apt-get install chromium=$CHROMIUM_VERSION"
  local t0 versions
  t0=$(now_ms)
  # Versions apt offers, one per line; read whole so no pipe is cut short.
  offered() { apt-cache madison chromium 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}'; }
  versions="$(offered)"
  if ! grep -qxF "$CHROMIUM_VERSION" <<<"$versions"; then
    apt-get update -qq >&2 || die "apt-get update failed"
    versions="$(offered)"
  fi
  grep -qxF "$CHROMIUM_VERSION" <<<"$versions" ||
    die "chromium $CHROMIUM_VERSION is no longer offered by apt (Debian keeps only the newest security build); offered: $(xargs <<<"$versions"); set CHROMIUM_VERSION in stack/install.sh to one of them"
  log "chromium $CHROMIUM_VERSION: apt-get install"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "chromium=$CHROMIUM_VERSION" >&2 ||
    die "apt-get install chromium=$CHROMIUM_VERSION failed"
  /usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1 || die "installed chromium does not run"
  log "chromium $CHROMIUM_VERSION: installed in $(($(now_ms) - t0)) ms"
}

# What Helm's release builds (its Makefile) set by ldflag: its version, and
# the Kubernetes version `helm template` and `helm lint` assume, which is
# client-go's minor + 1.x; without them helm says v3.0+unreleased and
# assumes Kubernetes 1.20, so any chart with a kubeVersion floor refuses to
# render.
helm_ldflags() {
  local gomod client_go major minor
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$gomod")"
  [[ -n "$client_go" ]] || return 1
  IFS=. read -r major minor _ <<<"${client_go#v}"
  major=$((major + 1))
  local flags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  local pkg
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    flags+=" -X $pkg.k8sVersionMajor=$major -X $pkg.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

install_helm() {
  # The stamp names the build recipe too, so a change to the ldflags rebuilds.
  local stamp="$INFRA_STAMPS/helm" want="$HELM_VERSION (version and kube-version ldflags)"
  if [[ -x "$INFRA_BIN/helm" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    log "helm $HELM_VERSION: up to date"
    return
  fi
  need go "install Go >= 1.24 to build Helm"
  log "helm $HELM_VERSION: go install (a few minutes the first time)"
  local t0 scratch ldflags
  t0=$(now_ms)
  scratch="$(new_scratch)"
  ldflags="$(helm_ldflags)" || { rm -rf "$scratch"; die "cannot read k8s.io/client-go's version from helm $HELM_VERSION's go.mod"; }
  if ! GOBIN="$scratch" go install -ldflags="$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$scratch/build.log" 2>&1; then
    cat "$scratch/build.log" >&2
    rm -rf "$scratch"
    die "go install of helm $HELM_VERSION failed"
  fi
  mv -f "$scratch/helm" "$INFRA_BIN/helm"
  rm -rf "$scratch"
  "$INFRA_BIN/helm" version --short | grep -q "^${HELM_VERSION}" || die "built helm does not report $HELM_VERSION"
  echo "$want" >"$stamp"
  log "helm $HELM_VERSION: installed in $(($(now_ms) - t0)) ms"
}

parts=("$@")
((${#parts[@]})) || parts=(temporal kube moto helm)
for part in "${parts[@]}"; do
  case "$part" in
    temporal) install_temporal ;;
    kube | etcd | kubectl) install_kube ;;
    moto) install_moto ;;
    chromium) install_chromium ;;
    helm) install_helm ;;
    all) install_temporal; install_kube; install_moto; install_helm ;;
    *) die "unknown part '$part' (expected: temporal kube moto helm)" ;;
  esac
done
