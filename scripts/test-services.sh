#!/usr/bin/env bash
# Called by `npm test` before the suites run: starts every real service the integration
# suites use — MongoDB stand-in, Kafka, PostgreSQL and the SMTP catcher (idempotent; well
# under a second when they already run) and installs Debian's Chromium for the browser suites
# if it is missing, and the Schemathesis API fuzzer into a virtual environment under
# .services/. A missing service then fails its suite.
#
# Opt out with EVENTLOOM_SKIP_SERVICES=1: nothing is started, and suites whose service is
# not reachable skip with the reason printed (never under CI=true).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${EVENTLOOM_SKIP_SERVICES:-}" == 1 && "${CI:-}" != true ]]; then
  echo "test-services: EVENTLOOM_SKIP_SERVICES=1, not starting services; suites without theirs skip"
  exit 0
fi
bash scripts/services.sh up
bash scripts/install-browser.sh
bash scripts/install-schemathesis.sh
