#!/usr/bin/env bash
# SMTP catcher: Mailpit (github.com/axllent/mailpit), built from the Go module proxy with
# `go install` into .services/bin (Go >= 1.24 needed once; Debian's golang-go is tried when no
# `go` is on PATH). It accepts every message and keeps it for inspection:
#   SMTP on 127.0.0.1:${SMTP_PORT:-1025}         SMTP_URL=smtp://127.0.0.1:1025
#   HTTP API on 127.0.0.1:${MAILPIT_HTTP_PORT:-8025}  MAILPIT_API_URL=http://127.0.0.1:8025
#
#   bash scripts/services/smtp.sh up|down|status|mail
#
# `mail` lists what it received (subject, recipients, Message-ID), newest first.
# --ignore-duplicate-ids: like real receivers, it keeps one copy of a Message-ID, so the app's
# at-least-once sends (a crash after the SMTP accept re-sends the same id) land once.
# Env: SMTP_PORT (1025), MAILPIT_HTTP_PORT (8025), MAILPIT_VERSION (v1.33.1), MAILPIT_MAX (5000).
# State: .services/smtp/ (mailpit.db, mailpit.log, pid, build.log); the binary in .services/bin.
# Messages persist across down/up in mailpit.db; `rm -rf .services/smtp` (while down) forgets them.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMTP_PORT=${SMTP_PORT:-1025}
MAILPIT_HTTP_PORT=${MAILPIT_HTTP_PORT:-8025}
MAILPIT_VERSION=${MAILPIT_VERSION:-v1.33.1}
SMTP_STATE=$SERVICES_HOME/smtp
SMTP_PIDFILE=$SMTP_STATE/mailpit.pid
SMTP_LOG=$SMTP_STATE/mailpit.log
SMTP_DB=$SMTP_STATE/mailpit.db
MAILPIT_BIN=$SERVICES_HOME/bin/mailpit
MAILPIT_STAMP=$SERVICES_HOME/bin/.mailpit-$MAILPIT_VERSION
MAILPIT_API="http://$SVC_BIND_HOST:$MAILPIT_HTTP_PORT"
# The database path is on the command line and under $SERVICES_HOME: it finds this checkout's
# process even without its pid file.
SMTP_MARKER="--database $SMTP_DB"

# smtp_banner — the SMTP port greets with a 220 reply (pure bash).
smtp_banner() {
  local line
  # shellcheck disable=SC2016
  line=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; head -c 3 <&3' \
    "$SVC_BIND_HOST" "$SMTP_PORT" 2>/dev/null) || return 1
  [[ "$line" == 220 ]]
}

# mailpit_api_ok — the HTTP API answers /api/v1/info as Mailpit.
mailpit_api_ok() {
  curl -fsS --max-time 2 "$MAILPIT_API/api/v1/info" 2>/dev/null | grep -q '"Version"'
}

mailpit_ready() { smtp_banner && mailpit_api_ok; }

# mailpit_install — build the pinned Mailpit once (cached by a version stamp).
mailpit_install() {
  [[ -x "$MAILPIT_BIN" && -f "$MAILPIT_STAMP" ]] && return 0
  if ! command -v go >/dev/null 2>&1; then
    apt_install golang-go || fail smtp "no Go toolchain: install Go >= 1.24 (https://go.dev/dl) to build Mailpit"
  fi
  local t0
  t0=$(now_ms)
  mkdir -p "$SERVICES_HOME/bin" "$SMTP_STATE"
  say "smtp: building Mailpit $MAILPIT_VERSION with $(go version | awk '{print $3}') (first run only) ..."
  # Pure Go (its SQLite is modernc.org/sqlite): no C toolchain needed.
  if ! GOBIN="$SERVICES_HOME/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go install "github.com/axllent/mailpit@$MAILPIT_VERSION" >"$SMTP_STATE/build.log" 2>&1; then
    fail smtp "go install github.com/axllent/mailpit@$MAILPIT_VERSION failed (Go >= 1.24 and the module proxy are needed)" "$SMTP_STATE/build.log"
  fi
  rm -f "$SERVICES_HOME"/bin/.mailpit-*
  touch "$MAILPIT_STAMP"
  say "smtp: Mailpit built in $(elapsed "$t0")"
}

svc_smtp_up() {
  mkdir -p "$SMTP_STATE"
  local pid t0
  t0=$(now_ms)
  pid=$(managed_pid "$SMTP_PIDFILE" "$SMTP_MARKER")
  if [[ -n "$pid" ]]; then
    wait_for smtp 30 "$pid" "$SMTP_LOG" mailpit_ready
    say "smtp: already running (pid $pid) — SMTP $SVC_BIND_HOST:$SMTP_PORT, API $MAILPIT_API"
    return 0
  fi
  if port_open "$SVC_BIND_HOST" "$SMTP_PORT" || port_open "$SVC_BIND_HOST" "$MAILPIT_HTTP_PORT"; then
    if mailpit_ready; then
      say "smtp: a Mailpit not started by this script already serves $SVC_BIND_HOST:$SMTP_PORT and $MAILPIT_API; using it"
      # Suites also start private Mailpits (with their own options) from .services/bin.
      mailpit_install
      return 0
    fi
    fail smtp "port $SVC_BIND_HOST:$SMTP_PORT or $MAILPIT_HTTP_PORT is in use by another program that is not Mailpit; stop it or set SMTP_PORT / MAILPIT_HTTP_PORT"
  fi
  mailpit_install

  say "smtp: starting Mailpit on $SVC_BIND_HOST:$SMTP_PORT (API $MAILPIT_API) ..."
  printf '\n===== %s starting (smtp %s, http %s) =====\n' "$(date -Is)" "$SMTP_PORT" "$MAILPIT_HTTP_PORT" >>"$SMTP_LOG"
  start_detached "$SMTP_PIDFILE" "$SMTP_LOG" \
    "$MAILPIT_BIN" --database "$SMTP_DB" \
    --smtp "$SVC_BIND_HOST:$SMTP_PORT" --listen "$SVC_BIND_HOST:$MAILPIT_HTTP_PORT" \
    --max "${MAILPIT_MAX:-5000}" --disable-version-check \
    --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns \
    --ignore-duplicate-ids ||
    fail smtp "could not launch $MAILPIT_BIN" "$SMTP_LOG"
  pid=$(<"$SMTP_PIDFILE")
  wait_for smtp 30 "$pid" "$SMTP_LOG" mailpit_ready
  say "smtp: up in $(elapsed "$t0") (pid $pid) — SMTP_URL=smtp://$SVC_BIND_HOST:$SMTP_PORT, API $MAILPIT_API"
}

svc_smtp_down() {
  local pid
  pid=$(managed_pid "$SMTP_PIDFILE" "$SMTP_MARKER")
  if [[ -z "$pid" ]]; then
    rm -f "$SMTP_PIDFILE"
    say "smtp: not running"
    return 0
  fi
  stop_pid smtp "$pid" 10 || fail smtp "could not stop pid $pid"
  rm -f "$SMTP_PIDFILE"
  say "smtp: stopped (pid $pid)"
}

svc_smtp_status() {
  local pid rss
  pid=$(managed_pid "$SMTP_PIDFILE" "$SMTP_MARKER")
  if [[ -n "$pid" ]]; then
    rss=$(awk '/VmRSS/{printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null)
    if mailpit_ready; then
      say "smtp: running (pid $pid, RSS $rss) — SMTP $SVC_BIND_HOST:$SMTP_PORT, API $MAILPIT_API"
      return 0
    fi
    say "smtp: process $pid is alive but SMTP $SVC_BIND_HOST:$SMTP_PORT or $MAILPIT_API does not answer"
    return 1
  fi
  if mailpit_ready; then
    say "smtp: not managed here, but a Mailpit answers on $SVC_BIND_HOST:$SMTP_PORT and $MAILPIT_API"
    return 0
  fi
  say "smtp: stopped"
  return 3
}

# svc_smtp_mail — one line per received message: subject, recipients, Message-ID (newest first).
svc_smtp_mail() {
  local json
  json=$(curl -fsS --max-time 5 "$MAILPIT_API/api/v1/messages?limit=${MAIL_LIMIT:-50}") ||
    fail smtp "$MAILPIT_API does not answer; start it with: bash scripts/services.sh up smtp"
  # node is the project's own runtime, so it is there to read the JSON.
  printf '%s' "$json" | node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const { messages = [], total = 0 } = JSON.parse(s);
      console.log(`${total} message(s) received; newest first:`);
      for (const m of messages) {
        const to = (m.To || []).map((a) => a.Address).join(", ");
        console.log(`${m.Created}  subject: ${m.Subject}  to: ${to}  message-id: <${m.MessageID}>`);
      }
    });'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    up | down | status | mail) "svc_smtp_$1" ;;
    *) echo "usage: $0 up|down|status|mail" >&2; exit 2 ;;
  esac
fi
