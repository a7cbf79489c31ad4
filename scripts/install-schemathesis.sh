#!/usr/bin/env bash
# Installs the Schemathesis API fuzzer (test/server/apiFuzz.e2e.test.ts) into its own virtual
# environment under .services/ (git-ignored), pinned so every run fuzzes with the same checks.
# Idempotent: when the pinned version is already there it only reads a stamp file.
#
# Without python3 (or its venv module) it says so and exits 0 so the fuzz suite can skip with
# that reason; under CI=true a missing Python is an error instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VERSION="4.32.5"
VENV="${SCHEMATHESIS_VENV:-.services/venv-schemathesis}"
STAMP="$VENV/.schemathesis-$VERSION"

if [ -f "$STAMP" ] && [ -x "$VENV/bin/schemathesis" ]; then
  exit 0
fi

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  message="install-schemathesis: $PYTHON with the venv module is missing; install Python 3.9+ (e.g. apt-get install python3-venv) to run the API fuzzer"
  if [ "${CI:-}" == true ]; then
    echo "$message" >&2
    exit 1
  fi
  echo "$message; its suite will skip" >&2
  exit 0
fi

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
touch "$STAMP"
echo "install-schemathesis: $("$VENV/bin/schemathesis" --version) installed in $VENV"
