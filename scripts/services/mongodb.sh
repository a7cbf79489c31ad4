#!/usr/bin/env bash
# MongoDB stand-in: de.bwaldvogel:mongo-java-server (memory backend, oplog on => change streams),
# on 127.0.0.1:${MONGODB_PORT:-27017}. Differences from a real MongoDB: mongo/STANDIN-NOTES.md.
#
#   bash scripts/services/mongodb.sh up|down|status
#
# Env: MONGODB_PORT (27017), MONGODB_STANDIN_HEAP (6g), MONGODB_STANDIN_VERSION (4.4.0),
#      MONGODB_STANDIN_WIRE_VERSION (9). State: .services/mongodb/ (log, pid, classpath, classes).
# All data lives in the JVM heap: `down` (or a crash) forgets everything.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MONGO_PORT=${MONGODB_PORT:-27017}
MONGO_SRC=$SVC_DIR/mongo
MONGO_STATE=$SERVICES_HOME/mongodb
MONGO_PIDFILE=$MONGO_STATE/mongodb.pid
MONGO_LOG=$MONGO_STATE/mongodb.log
# Passed to the JVM; lets status/down find this checkout's process even without its pid file.
MONGO_MARKER=" -Deventloom.service=mongodb -Deventloom.home=$SERVICES_HOME "

# mongo_probe — send a real OP_MSG {isMaster: 1, $db: "admin"} (pure bash, no client needed);
# succeeds when the reply has ok: 1.0, and leaves the advertised maxWireVersion in MONGO_WIRE.
MONGO_WIRE=""
mongo_probe() {
  local msg hex
  # header: length 55, requestID 1, responseTo 0, opCode 2013 (OP_MSG); flags 0; section kind 0;
  # BSON document (34 bytes): { isMaster: int32 1, $db: "admin" }
  msg='\x37\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00'
  # shellcheck disable=SC2016 # a literal "$db"
  msg+='\x22\x00\x00\x00\x10isMaster\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00'
  # shellcheck disable=SC2016
  hex=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf "$2" >&3
                           dd bs=65536 count=1 status=none <&3' "$SVC_BIND_HOST" "$MONGO_PORT" "$msg" \
    2>/dev/null | od -An -v -tx1 | tr -d ' \n') || true
  # "ok" as double 1.0 :  01 6f 6b 00 | 00 00 00 00 00 00 f0 3f
  [[ "$hex" == *016f6b00000000000000f03f* ]] || return 1
  local w=${hex#*6d61785769726556657273696f6e00} # "maxWireVersion\0"
  if [[ "$w" != "$hex" ]]; then MONGO_WIRE=$((16#${w:2:2}${w:0:2})); fi
  return 0
}

svc_mongodb_up() {
  mkdir -p "$MONGO_STATE"
  local pid t0
  t0=$(now_ms)
  pid=$(managed_pid "$MONGO_PIDFILE" "$MONGO_MARKER")
  if [[ -n "$pid" ]]; then
    wait_for mongodb 30 "$pid" "$MONGO_LOG" mongo_probe
    say "mongodb: already running (pid $pid) on $SVC_BIND_HOST:$MONGO_PORT, answers isMaster (maxWireVersion $MONGO_WIRE)"
    return 0
  fi
  if port_open "$SVC_BIND_HOST" "$MONGO_PORT"; then
    if mongo_probe; then
      say "mongodb: $SVC_BIND_HOST:$MONGO_PORT is already served by a MongoDB not started by this script (maxWireVersion $MONGO_WIRE); using it"
      return 0
    fi
    fail mongodb "port $SVC_BIND_HOST:$MONGO_PORT is in use by another program that does not speak MongoDB; stop it or set MONGODB_PORT"
  fi

  resolve_classpath mongodb "$MONGO_SRC/pom.xml" "$MONGO_STATE/classpath.txt"
  local cp src_hash classes
  cp=$(<"$MONGO_STATE/classpath.txt")
  # Compile the single-file launcher once (cached by source hash) instead of `java Launcher.java`
  # on every start: saves ~1 s per start.
  src_hash=$(file_hash "$MONGO_SRC/Launcher.java")
  classes=$MONGO_STATE/classes-$src_hash
  if [[ ! -f "$classes/Launcher.class" ]]; then
    ensure_jdk || fail mongodb "could not install a JDK 17"
    rm -rf "$MONGO_STATE"/classes-*
    mkdir -p "$classes.tmp"
    javac -nowarn -d "$classes.tmp" -cp "$cp" "$MONGO_SRC/Launcher.java" >"$MONGO_STATE/javac.log" 2>&1 ||
      fail mongodb "javac failed on $MONGO_SRC/Launcher.java" "$MONGO_STATE/javac.log"
    mv "$classes.tmp" "$classes"
  fi

  say "mongodb: starting mongo-java-server on $SVC_BIND_HOST:$MONGO_PORT ..."
  printf '\n===== %s starting (port %s) =====\n' "$(date -Is)" "$MONGO_PORT" >>"$MONGO_LOG"
  # shellcheck disable=SC2086
  MONGODB_HOST=$SVC_BIND_HOST MONGODB_PORT=$MONGO_PORT start_detached "$MONGO_PIDFILE" "$MONGO_LOG" \
    java -Deventloom.service=mongodb "-Deventloom.home=$SERVICES_HOME" \
    -Xms64m "-Xmx${MONGODB_STANDIN_HEAP:-6g}" -XX:+ExitOnOutOfMemoryError \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.showDateTime=true \
    -cp "$classes:$cp" Launcher "$MONGO_PORT" ||
    fail mongodb "could not launch java" "$MONGO_LOG"
  pid=$(<"$MONGO_PIDFILE")
  wait_for mongodb 60 "$pid" "$MONGO_LOG" mongo_probe
  say "mongodb: up in $(elapsed "$t0") (pid $pid) — mongodb://$SVC_BIND_HOST:$MONGO_PORT (maxWireVersion $MONGO_WIRE)"
}

svc_mongodb_down() {
  local pid
  pid=$(managed_pid "$MONGO_PIDFILE" "$MONGO_MARKER")
  if [[ -z "$pid" ]]; then
    rm -f "$MONGO_PIDFILE"
    say "mongodb: not running"
    return 0
  fi
  stop_pid mongodb "$pid" 15 || fail mongodb "could not stop pid $pid"
  rm -f "$MONGO_PIDFILE"
  say "mongodb: stopped (pid $pid)"
}

svc_mongodb_status() {
  local pid rss
  pid=$(managed_pid "$MONGO_PIDFILE" "$MONGO_MARKER")
  if [[ -n "$pid" ]]; then
    rss=$(awk '/VmRSS/{printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null)
    if mongo_probe; then
      say "mongodb: running (pid $pid, RSS $rss) on $SVC_BIND_HOST:$MONGO_PORT, maxWireVersion $MONGO_WIRE"
      return 0
    fi
    say "mongodb: process $pid is alive but $SVC_BIND_HOST:$MONGO_PORT does not answer"
    return 1
  fi
  if mongo_probe; then
    say "mongodb: not managed here, but a MongoDB answers on $SVC_BIND_HOST:$MONGO_PORT (maxWireVersion $MONGO_WIRE)"
    return 0
  fi
  say "mongodb: stopped"
  return 3
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up | down | status) "svc_mongodb_$1" ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
  esac
fi
