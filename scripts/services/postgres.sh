#!/usr/bin/env bash
# PostgreSQL: a private cluster of Debian's PostgreSQL server (apt package `postgresql`, installed
# when missing) on 127.0.0.1:${POSTGRES_PORT:-5432} only, user postgres / password postgres, database
# eventloom:  DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/eventloom
#
#   bash scripts/services/postgres.sh up|down|status
#
# State: .services/postgres/ (data/, postgres.log, run/ for the unix socket). The cluster is
# owned by the OS user `postgres` when run as root (PostgreSQL refuses to run as root).
# Tuned for tests, not durability: fsync, synchronous_commit and full_page_writes are off.
# Data persists across down/up; `rm -rf .services/postgres` (while down) starts from scratch.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT=${POSTGRES_PORT:-5432}
PG_USER=postgres
PG_PASSWORD=postgres
PG_DB=eventloom
PG_STATE=$SERVICES_HOME/postgres
PG_LOG=$PG_STATE/postgres.log
PG_URL="postgres://$PG_USER:$PG_PASSWORD@$SVC_BIND_HOST:$PG_PORT/$PG_DB"
PG_BIN=""
PG_DATA=""
PG_SOCKET_DIR=""

pg_find_bin() {
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -n "$d" && -x "$d/postgres" ]] && PG_BIN=$d
}

# pg_as_owner CMD... — run CMD as the cluster owner (postgres when we are root).
pg_as_owner() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_owner_can_reach() { pg_as_owner test -w "$1"; }

pg_paths() {
  PG_DATA=$PG_STATE/data
  PG_SOCKET_DIR=$PG_STATE/run
  # unix socket paths are limited to 107 bytes
  if ((${#PG_SOCKET_DIR} > 80)); then PG_SOCKET_DIR=/tmp/eventloom-pg-$(echo "$PG_STATE" | sha256sum | cut -c1-12); fi
}

pg_prepare_dirs() {
  mkdir -p "$PG_STATE" "$PG_SOCKET_DIR"
  chmod 700 "$PG_SOCKET_DIR" # the socket is trusted: only its owner (and root) may use it
  if ((EUID == 0)); then
    chown postgres:postgres "$PG_STATE" "$PG_SOCKET_DIR"
    [[ -d "$PG_DATA" ]] && chown -R postgres:postgres "$PG_DATA"
    touch "$PG_LOG" && chown postgres:postgres "$PG_LOG"
    if ! pg_owner_can_reach "$PG_STATE"; then
      fail postgres "the OS user postgres cannot write $PG_STATE (a parent folder is not searchable by it); move the checkout or set EVENTLOOM_SERVICES_HOME to a folder it can reach"
    fi
  fi
}

pg_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

# pg_answers — the DATABASE_URL works over TCP with the password.
pg_answers() {
  PGCONNECT_TIMEOUT=2 psql "$PG_URL" -X -q -tAc 'select 1' >/dev/null 2>&1
}

pg_pid() { head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null; }

svc_postgres_up() {
  local t0
  t0=$(now_ms)
  pg_paths
  pg_find_bin || {
    apt_install postgresql || fail postgres "could not apt-get install postgresql"
    pg_find_bin || fail postgres "no PostgreSQL server binaries under /usr/lib/postgresql after installing"
  }
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client || fail postgres "could not install psql"
  if pg_running; then
    pg_answers || fail postgres "the cluster in $PG_DATA runs but $PG_URL does not answer" "$PG_LOG"
    say "postgres: already running (pid $(pg_pid)) — $PG_URL"
    return 0
  fi
  if port_open "$SVC_BIND_HOST" "$PG_PORT"; then
    if pg_answers; then
      say "postgres: $SVC_BIND_HOST:$PG_PORT is already served by a PostgreSQL not started by this script, and $PG_URL works; using it"
      return 0
    fi
    fail postgres "port $SVC_BIND_HOST:$PG_PORT is in use by another program (a system cluster? try: pg_lsclusters / pg_ctlcluster 15 main stop) and $PG_URL does not work there"
  fi
  pg_prepare_dirs

  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    say "postgres: initdb $PG_DATA ($("$PG_BIN/postgres" --version)) ..."
    local pwfile=$PG_STATE/.pwfile
    printf '%s\n' "$PG_PASSWORD" >"$pwfile"
    chmod 600 "$pwfile"
    ((EUID == 0)) && chown postgres:postgres "$pwfile"
    rm -rf "$PG_DATA"
    if ! pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" -E UTF8 \
      --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1; then
      rm -f "$pwfile"
      fail postgres "initdb failed" "$PG_LOG"
    fi
    rm -f "$pwfile"
    cat >>"$PG_DATA/postgresql.conf" <<EOF

# ---- scripts/services/postgres.sh (a disposable test cluster) ----
listen_addresses = '$SVC_BIND_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF
    # only 127.0.0.1 over TCP (with the password); the unix socket is trusted (owner only)
    cat >"$PG_DATA/pg_hba.conf" <<EOF
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
EOF
    ((EUID == 0)) && chown postgres:postgres "$PG_DATA/postgresql.conf" "$PG_DATA/pg_hba.conf"
  fi

  say "postgres: starting on $SVC_BIND_HOST:$PG_PORT ..."
  printf '\n===== %s starting (port %s) =====\n' "$(date -Is)" "$PG_PORT" >>"$PG_LOG"
  # pg_ctl daemonizes the postmaster (its own session) and waits until it accepts connections.
  # 9>&-: do not hand services.sh's lock (fd 9) to the postmaster, which would hold it forever.
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -o "-p $PG_PORT" start </dev/null >/dev/null 2>&1 9>&- ||
    fail postgres "pg_ctl start failed" "$PG_LOG"
  if ! psql -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_USER" -X -q -d postgres -tAc \
    "select 1 from pg_database where datname = '$PG_DB'" | grep -q 1; then
    psql -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_USER" -X -q -d postgres -c "create database $PG_DB" >>"$PG_LOG" 2>&1 ||
      fail postgres "could not create database $PG_DB" "$PG_LOG"
  fi
  pg_answers || fail postgres "started, but $PG_URL does not answer" "$PG_LOG"
  say "postgres: up in $(elapsed "$t0") (pid $(pg_pid)) — $PG_URL"
}

svc_postgres_down() {
  pg_paths
  if ! pg_find_bin || ! pg_running; then
    say "postgres: not running"
    return 0
  fi
  local pid
  pid=$(pg_pid)
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    fail postgres "pg_ctl stop failed" "$PG_LOG"
  say "postgres: stopped (pid $pid)"
}

svc_postgres_status() {
  pg_paths
  if pg_find_bin && pg_running; then
    local pid rss
    pid=$(pg_pid)
    rss=$(awk '/VmRSS/{printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null)
    if pg_answers; then
      say "postgres: running (pid $pid, postmaster RSS $rss) — $PG_URL"
      return 0
    fi
    say "postgres: cluster runs (pid $pid) but $PG_URL does not answer"
    return 1
  fi
  if pg_answers; then
    say "postgres: not managed here, but $PG_URL works"
    return 0
  fi
  say "postgres: stopped"
  return 3
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up | down | status) "svc_postgres_$1" ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
  esac
fi
