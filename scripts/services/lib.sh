# shellcheck shell=bash
# Shared helpers for scripts/services.sh and scripts/services/<name>.sh.
# Sourced, never executed. Every service script defines svc_<name>_up / _down / _status.

if [[ -n "${EVENTLOOM_SVC_LIB_LOADED:-}" ]]; then return 0; fi
EVENTLOOM_SVC_LIB_LOADED=1

SVC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)   # scripts/services
REPO_ROOT=$(cd "$SVC_DIR/../.." && pwd)
# All runtime state (pid files, logs, data, resolved classpaths) lives here; it is git-ignored.
# shellcheck disable=SC2034 # used by the service scripts that source this file
SERVICES_HOME=${EVENTLOOM_SERVICES_HOME:-$REPO_ROOT/.services}
# shellcheck disable=SC2034
SVC_BIND_HOST=127.0.0.1

say() { printf '[services] %s\n' "$*"; }
warn() { printf '[services] WARNING: %s\n' "$*" >&2; }

# fail SERVICE MESSAGE [LOGFILE] — print the message and the tail of the log, then exit 1.
fail() {
  local name=$1 msg=$2 log=${3:-}
  printf '[services] %s: FAILED: %s\n' "$name" "$msg" >&2
  if [[ -n "$log" && -s "$log" ]]; then
    # the lines since the last "===== ... starting" marker these scripts write, at most 40
    printf '[services] %s: end of %s:\n' "$name" "$log" >&2
    tail -n 400 "$log" | awk '/^===== /{n=0; delete l} {l[n++]=$0} END{for(i=(n>40?n-40:0);i<n;i++) print l[i]}' |
      sed 's/^/    | /' >&2
  fi
  exit 1
}

now_ms() { date +%s%3N; }
elapsed() { # elapsed START_MS -> "1.2s"
  local d=$(($(now_ms) - $1))
  printf '%d.%01ds' $((d / 1000)) $(((d % 1000) / 100))
}

# ---------------------------------------------------------------- processes

# pid_alive PID — true when the process exists and is not a zombie.
pid_alive() {
  local pid=$1 line state
  [[ -n "$pid" && -r /proc/$pid/stat ]] || return 1
  read -r line <"/proc/$pid/stat" 2>/dev/null || return 1
  state=${line##*) }
  state=${state%% *}
  [[ "$state" != Z && "$state" != X ]]
}

# pid_has_marker PID MARKER — the process command line contains MARKER (guards against pid reuse).
pid_has_marker() {
  local pid=$1 marker=$2 args=()
  [[ -r /proc/$pid/cmdline ]] || return 1
  mapfile -d '' args <"/proc/$pid/cmdline" 2>/dev/null || return 1
  [[ " ${args[*]} " == *"$marker"* ]]
}

# pids_with_marker MARKER — every live process whose command line contains MARKER.
# MARKER always includes $SERVICES_HOME, so this only ever finds processes started by these scripts
# for this checkout (used when a pid file was lost).
pids_with_marker() {
  local marker=$1 p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ "$p" == "$$" || "$p" == "$BASHPID" ]] && continue
    pid_has_marker "$p" "$marker" && pid_alive "$p" && echo "$p"
  done
  return 0
}

# managed_pid PIDFILE MARKER — print the pid of our running process, or nothing.
managed_pid() {
  local pidfile=$1 marker=$2 pid=""
  if [[ -s "$pidfile" ]]; then
    pid=$(<"$pidfile")
    if pid_alive "$pid" && pid_has_marker "$pid" "$marker"; then
      echo "$pid"
      return 0
    fi
  fi
  pid=$(pids_with_marker "$marker" | head -n1)
  if [[ -n "$pid" ]]; then
    echo "$pid" >"$pidfile"
    echo "$pid"
  fi
  return 0
}

# start_detached PIDFILE LOGFILE CMD... — run CMD in its own session (survives the caller's
# process group, holds none of the caller's file descriptors) and record its pid.
start_detached() {
  local pidfile=$1 log=$2
  shift 2
  rm -f "$pidfile"
  # The inner shell writes its own pid, then execs CMD, so the pid file holds CMD's pid.
  # 9>&-: do not hand services.sh's lock (fd 9) to the daemon, which would hold it forever.
  # shellcheck disable=SC2016 # $$, $0 and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.02
  done
  return 1
}

# stop_pid NAME PID [GRACE_SECONDS] — SIGTERM the process (and its session), SIGKILL after GRACE.
stop_pid() {
  local name=$1 pid=$2 grace=${3:-20} i
  pid_alive "$pid" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  warn "$name: pid $pid did not stop within ${grace}s; sending SIGKILL"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- network

# port_open HOST PORT — something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# wait_for NAME TIMEOUT_S PID LOG CHECK_CMD... — poll CHECK_CMD until it succeeds; fail early if
# PID dies, fail with the log tail after TIMEOUT_S.
wait_for() {
  local name=$1 timeout_s=$2 pid=$3 log=$4
  shift 4
  local deadline=$(($(now_ms) + timeout_s * 1000))
  while true; do
    if "$@"; then return 0; fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      fail "$name" "process $pid exited during startup" "$log"
    fi
    if (($(now_ms) > deadline)); then
      fail "$name" "not ready after ${timeout_s}s" "$log"
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------- installs

_APT_UPDATED=""
apt_install() { # apt_install PKG... — install Debian packages that are missing
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=""
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || { say "need root (or sudo) to apt-get install ${missing[*]}"; return 1; }
    sudo="sudo -n"
  fi
  say "installing Debian packages: ${missing[*]} (apt-get)"
  if [[ -z "$_APT_UPDATED" ]]; then
    $sudo apt-get update -qq >/dev/null || return 1
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_jdk — java + javac >= 17 and mvn on PATH (installs Debian's JDK 17 / Maven if needed).
ensure_jdk() {
  local v
  if command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1; then
    v=$(java -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/{print $2}')
    if [[ "${v%%.*}" -lt 17 ]]; then
      apt_install openjdk-17-jdk-headless || return 1
      export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
      export PATH=$JAVA_HOME/bin:$PATH
    fi
  else
    apt_install openjdk-17-jdk-headless || return 1
  fi
  command -v mvn >/dev/null 2>&1 || apt_install maven || return 1
}

file_hash() { cat "$@" | sha256sum | cut -c1-16; }

# resolve_classpath NAME POM OUTFILE — write the runtime classpath of POM's dependencies to OUTFILE
# (cached: Maven only runs when the pom changed or a jar vanished from the local repository).
resolve_classpath() {
  local name=$1 pom=$2 out=$3 hash cp jar ok=1
  hash=$(file_hash "$pom")
  if [[ -s "$out" && -s "$out.hash" && "$(<"$out.hash")" == "$hash" ]]; then
    cp=$(<"$out")
    IFS=: read -r -a jars <<<"$cp"
    for jar in "${jars[@]}"; do [[ -f "$jar" ]] || { ok=0; break; }; done
    ((ok)) && return 0
  fi
  ensure_jdk || fail "$name" "could not install a JDK 17 / Maven"
  say "$name: resolving jars with Maven (first run downloads them to ~/.m2) ..."
  local t0 mlog
  t0=$(now_ms)
  mlog="$(dirname "$out")/maven.log"
  if ! mvn -B -ntp -q -f "$pom" dependency:build-classpath \
    -Dmdep.outputFile="$out.tmp" -Dmdep.includeScope=runtime >"$mlog" 2>&1; then
    fail "$name" "Maven could not resolve the dependencies of $pom" "$mlog"
  fi
  mv "$out.tmp" "$out"
  echo "$hash" >"$out.hash"
  say "$name: jars resolved in $(elapsed "$t0")"
}
