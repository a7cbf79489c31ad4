#!/usr/bin/env bash
# Starts and stops the real services Eventloom's integration tests use, all on 127.0.0.1:
#   mongodb   MongoDB stand-in (mongo-java-server, memory backend)   127.0.0.1:27017
#   kafka     Apache Kafka, single-node KRaft broker                  127.0.0.1:9092
#   postgres  PostgreSQL (Debian package), database eventloom         127.0.0.1:5432
#   smtp      SMTP catcher (Mailpit, Go module proxy)                 127.0.0.1:1025, API :8025
#
#   bash scripts/services.sh up     [mongodb|kafka|postgres|smtp ...]  # no names = all; idempotent
#   bash scripts/services.sh down   [names...]                    # stops them (no-op if stopped)
#   bash scripts/services.sh status [names...]                    # exit 0 only if all are up
#   bash scripts/services.sh env                                  # prints the env the tests read
#   bash scripts/services.sh mail                                 # lists mail the catcher received
#
# `up` installs what it needs (Debian packages via apt-get, jars via Maven into ~/.m2, Mailpit
# via `go install`), so it works on a fresh machine and in CI; once installed, `up` of running
# services takes well under a second. State (pids, logs, data, resolved classpaths) lives in .services/ (git-ignored).
# Each service is scripts/services/<name>.sh, which also runs alone: bash scripts/services/kafka.sh up

set -euo pipefail

ROOT_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=services/lib.sh
source "$ROOT_SCRIPTS/services/lib.sh"
# shellcheck source=services/postgres.sh
source "$ROOT_SCRIPTS/services/postgres.sh"
# shellcheck source=services/mongodb.sh
source "$ROOT_SCRIPTS/services/mongodb.sh"
# shellcheck source=services/kafka.sh
source "$ROOT_SCRIPTS/services/kafka.sh"
# shellcheck source=services/smtp.sh
source "$ROOT_SCRIPTS/services/smtp.sh"

ALL_SERVICES=(smtp postgres mongodb kafka) # start order: fastest first

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

canonical_name() {
  case "$1" in
    mongodb | mongo) echo mongodb ;;
    kafka) echo kafka ;;
    postgres | postgresql | pg) echo postgres ;;
    smtp | mailpit | mail) echo smtp ;;
    *) say "unknown service '$1' (known: mongodb, kafka, postgres, smtp)" >&2; return 1 ;;
  esac
}

action=${1:-}
[[ -n "$action" ]] || usage
shift

services=()
if (($# == 0)); then
  services=("${ALL_SERVICES[@]}")
else
  for name in "$@"; do services+=("$(canonical_name "$name")") || exit 2; done
fi

case "$action" in
  up | down | status) ;;
  env)
    echo "export MONGODB_URL=mongodb://127.0.0.1:${MONGODB_PORT:-27017}"
    echo "export KAFKA_BROKERS=127.0.0.1:${KAFKA_PORT:-9092}"
    echo "export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:${POSTGRES_PORT:-5432}/eventloom"
    echo "export SMTP_URL=smtp://127.0.0.1:${SMTP_PORT:-1025}"
    echo "export MAILPIT_API_URL=http://127.0.0.1:${MAILPIT_HTTP_PORT:-8025}"
    exit 0
    ;;
  mail)
    svc_smtp_mail
    exit 0
    ;;
  -h | --help | help) usage ;;
  *) say "unknown command '$action'"; usage ;;
esac

mkdir -p "$SERVICES_HOME"
if [[ "$action" != status ]]; then
  # One up/down at a time per checkout (parallel test runners may call `up` together).
  exec 9>"$SERVICES_HOME/.lock"
  if ! flock -n 9; then
    say "waiting for another services.sh up/down in this checkout to finish ..."
    flock -w 600 9 || { say "gave up waiting for $SERVICES_HOME/.lock"; exit 1; }
  fi
fi

if [[ "$action" == down ]]; then # stop in reverse order
  reversed=()
  for ((i = ${#services[@]} - 1; i >= 0; i--)); do reversed+=("${services[i]}"); done
  services=("${reversed[@]}")
fi

t0=$(now_ms)
failed=()
for svc in "${services[@]}"; do
  # A subshell, so that one service's failure (its scripts `exit 1`) does not skip the others.
  rc=0
  ("svc_${svc}_${action}") || rc=$?
  ((rc == 0)) || failed+=("$svc")
done

if ((${#failed[@]} > 0)); then
  case "$action" in
    status) say "not running: ${failed[*]}" ;;
    *) say "FAILED ($action): ${failed[*]}" ;;
  esac
  [[ "$action" == status ]] && exit 3
  exit 1
fi
[[ "$action" == up ]] && say "all up in $(elapsed "$t0"): ${services[*]}  (bash scripts/services.sh env  prints the URLs)"
[[ "$action" == down ]] && say "all stopped in $(elapsed "$t0"): ${services[*]}"
exit 0
