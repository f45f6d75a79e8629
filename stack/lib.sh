# shellcheck shell=bash disable=SC2034 # the variables here are for the scripts that source this
# Shared helpers for the local-stack scripts. Sourced, never executed.
#
# Everything downloaded or built lives in one cache dir outside the work tree so
# fresh clones and worktrees of the repo share it, and so `git clean` does not
# throw away a kube-apiserver build that takes minutes.

STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_DIR/.." && pwd)"

INFRA_CACHE="${INFRA_CACHE:-$HOME/.cache/infra-operator}"
INFRA_BIN="$INFRA_CACHE/bin"
INFRA_STAMPS="$INFRA_CACHE/stamps"

# Pinned versions. Temporal CLI tags after v1.5.1 carry a `replace` line in
# their go.mod, which `go install pkg@version` refuses.
TEMPORAL_CLI_VERSION="v1.5.1"
MOTO_VERSION="5.2.5"
# Helm, for the chart in deploy/helm (its lint, template and install tests).
HELM_VERSION="v3.22.0"
KUBE_MODULE_DIR="$STACK_DIR/kube"
# The kube and etcd versions are whatever stack/kube/go.mod requires, so the
# go.mod stays the single place to bump them.
KUBE_VERSION="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$KUBE_MODULE_DIR/go.mod")"
ETCD_VERSION="$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ { print $2; exit }' "$KUBE_MODULE_DIR/go.mod")"

MOTO_VENV="$INFRA_CACHE/moto-$MOTO_VERSION"

STACK_COMPONENTS=(etcd kube temporal moto)

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# --- waiting --------------------------------------------------------------

# Bash's /dev/tcp avoids depending on nc, which is not always installed.
port_open() {
  local host="$1" port="$2"
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# wait_for TIMEOUT_S DESCRIPTION PIDFILE CMD...
# Polls CMD until it succeeds. Gives up early when the process in PIDFILE dies,
# because waiting the full timeout for a crashed server only hides the cause.
wait_for() {
  local timeout="$1" what="$2" pidfile="$3"
  shift 3
  local deadline=$(($(now_ms) + timeout * 1000))
  while ! "$@" >/dev/null 2>&1; do
    if [[ -n "$pidfile" ]] && ! pid_running "$pidfile"; then
      log "$what: process exited while waiting"
      return 1
    fi
    if (($(now_ms) >= deadline)); then
      log "$what: not ready after ${timeout}s"
      return 1
    fi
    sleep 0.2
  done
}

# wait_for_port HOST PORT [TIMEOUT_S] [PIDFILE]
wait_for_port() {
  wait_for "${3:-60}" "port $1:$2" "${4:-}" port_open "$1" "$2"
}

# http_ok URL [CURL_ARGS...]: succeeds on a 2xx answer.
http_ok() {
  local url="$1"
  shift
  curl -fsS --max-time 5 "$@" -o /dev/null "$url"
}

# http_answers URL: succeeds on any HTTP answer at all, even a 404/500; for
# servers (moto) where "it speaks HTTP" is all readiness means.
http_answers() {
  local code
  code="$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" || true
  [[ -n "$code" && "$code" != "000" ]]
}

# wait_for_http URL [TIMEOUT_S] [PIDFILE] [CURL_ARGS...]
wait_for_http() {
  local url="$1" timeout="${2:-60}" pidfile="${3:-}"
  shift $(($# < 3 ? $# : 3))
  wait_for "$timeout" "GET $url" "$pidfile" http_ok "$url" "$@"
}

# --- processes ------------------------------------------------------------

# proc_stat_field PID N: field N (1-based, as in proc(5)) of /proc/PID/stat.
# The command name (field 2) may contain spaces and parentheses, so split only
# what follows its closing parenthesis.
proc_stat_field() {
  local stat rest
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  rest="${stat##*) }"
  local -a f
  read -r -a f <<<"$rest"
  echo "${f[$(($2 - 3))]}"
}

# pid_running PIDFILE: the pid in the file exists and is not a zombie.
pid_running() {
  local pid
  pid="$(head -n1 "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A zombie still answers kill -0; treat it as dead.
  [[ "$(proc_stat_field "$pid" 3)" != "Z" ]]
}

# pid_alive PIDFILE: the pid in the file is running and is still the process
# start_daemon started, so a recycled pid of an unrelated process is never
# mistaken for our server or killed. Identity is the process start time
# (field 22 of /proc/PID/stat), which exec does not change, so it holds for
# wrappers like `env ... node` and for interpreted scripts alike.
pid_alive() {
  local pidfile="$1" pid started
  pid_running "$pidfile" || return 1
  pid="$(head -n1 "$pidfile")"
  started="$(sed -n 3p "$pidfile" 2>/dev/null)"
  [[ -z "$started" || "$(proc_stat_field "$pid" 22)" == "$started" ]]
}

# start_daemon PIDFILE LOGFILE CMD...
# setsid gives the server its own session (so no terminal hangup or Ctrl-C in
# the calling shell reaches it) and makes it a process-group leader, which
# stop_daemon uses to kill it together with any children. The pid is written
# from inside the new session before exec, because `setsid` forks when its
# caller is already a group leader and `$!` would then be the wrong pid.
# stdin/stdout/stderr are all redirected so no caller (e.g. Node's execFile
# waiting for its pipes to close) is held open by the server.
# Pid file lines: pid, program, start time (see pid_alive).
start_daemon() {
  local pidfile="$1" logfile="$2"
  shift 2
  rm -f "$pidfile" "$pidfile.new"
  # 8>&- 9>&-: the lock fds of lock_state_dir and install.sh must not be
  # inherited, or the server would hold the lock for its whole life.
  # shellcheck disable=SC2016 # $$ and $@ are for the inner shell
  setsid bash -c 'printf "%s\n" "$$" >"$0.new"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 8>&- 9>&- &
  local _ pid
  for _ in $(seq 1 50); do
    if [[ -s "$pidfile.new" ]]; then
      pid="$(head -n1 "$pidfile.new")"
      printf '%s\n%s\n%s\n' "$pid" "$1" "$(proc_stat_field "$pid" 22)" >"$pidfile.new"
      mv -f "$pidfile.new" "$pidfile"
      return 0
    fi
    sleep 0.1
  done
  die "could not start $1 (no pid file $pidfile); see $logfile"
}

# stop_daemon PIDFILE NAME [GRACE_S]
stop_daemon() {
  local pidfile="$1" name="$2" grace="${3:-10}" pid
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile" "${pidfile%.pid}.port"
    return 0
  fi
  pid="$(head -n1 "$pidfile")"
  # Signal the whole process group (pgid == pid thanks to setsid), falling back
  # to the pid alone if the group is somehow gone.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(($(now_ms) + grace * 1000))
  while pid_alive "$pidfile"; do
    if (($(now_ms) >= deadline)); then
      log "$name (pid $pid) still running after ${grace}s; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  rm -f "$pidfile" "${pidfile%.pid}.port"
}

# log_tail FILE: the end of the latest run's output only (start.sh puts a
# "=====" header before each start), so an old run's noise does not bury the
# error that matters.
log_tail() {
  local file="$1"
  [[ -f "$file" ]] || return 0
  printf '[stack] --- last lines of %s ---\n' "$file" >&2
  awk '/^===== / { n = 0; delete buf } { buf[n++] = $0 } END { s = n > 40 ? n - 40 : 0; for (i = s; i < n; i++) print buf[i] }' "$file" >&2
  printf '[stack] ---\n' >&2
}

# --- state dir ------------------------------------------------------------

# lock_state_dir STATE_DIR: serializes start.sh/stop.sh runs on one state dir,
# so two concurrent starts cannot both launch the same server.
lock_state_dir() {
  exec 8>"$1/.lock"
  if ! flock -n 8; then
    log "waiting for another start.sh/stop.sh on $1"
    flock 8
  fi
}

# load_config STATE_DIR: ports and options, from the environment first, then
# from what this state dir was last started with, then defaults. Remembering
# them in the state dir lets `start.sh DIR temporal` after a `stop.sh DIR
# temporal` come back on the same port without the caller repeating its env.
load_config() {
  local state="$1" saved="$1/config.env"
  local -A from_env=()
  local v
  for v in ETCD_PORT ETCD_PEER_PORT KUBE_PORT TEMPORAL_PORT TEMPORAL_UI_PORT MOTO_PORT HEADLESS; do
    [[ -n "${!v:-}" ]] && from_env[$v]="${!v}"
  done
  # shellcheck disable=SC1090
  [[ -f "$saved" ]] && source "$saved"
  for v in "${!from_env[@]}"; do
    printf -v "$v" '%s' "${from_env[$v]}"
  done
  ETCD_PORT="${ETCD_PORT:-12379}"
  ETCD_PEER_PORT="${ETCD_PEER_PORT:-12380}"
  KUBE_PORT="${KUBE_PORT:-16443}"
  TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
  TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
  MOTO_PORT="${MOTO_PORT:-4566}"
  HEADLESS="${HEADLESS:-0}"
  # TEMPORAL_UI_PORT=0 is the other documented way to ask for no UI.
  [[ "$TEMPORAL_UI_PORT" == "0" ]] && HEADLESS=1
  for v in ETCD_PORT ETCD_PEER_PORT KUBE_PORT TEMPORAL_PORT TEMPORAL_UI_PORT MOTO_PORT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a port number, got '${!v}'"
  done
}

save_config() {
  local state="$1"
  cat >"$state/config.env.tmp" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
KUBE_PORT=$KUBE_PORT
TEMPORAL_PORT=$TEMPORAL_PORT
TEMPORAL_UI_PORT=$TEMPORAL_UI_PORT
MOTO_PORT=$MOTO_PORT
HEADLESS=$HEADLESS
EOF
  mv -f "$state/config.env.tmp" "$state/config.env"
}

# select_components ARGS...: sets COMPONENTS to the requested components in
# dependency order (etcd before kube), or to all of them when none are given.
# Sets a global rather than printing, so that die() on a bad name exits the
# script instead of a subshell.
select_components() {
  local c want
  local -A asked=()
  for c in "$@"; do
    [[ "$c" == all ]] && { asked=(); break; }
    case "$c" in
      etcd | kube | temporal | moto) asked[$c]=1 ;;
      *) die "unknown component '$c' (expected: ${STACK_COMPONENTS[*]} or all)" ;;
    esac
  done
  COMPONENTS=()
  for want in "${STACK_COMPONENTS[@]}"; do
    if ((${#asked[@]} == 0)) || [[ -n "${asked[$want]:-}" ]]; then
      COMPONENTS+=("$want")
    fi
  done
}
