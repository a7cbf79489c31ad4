#!/usr/bin/env bash
# Installs Debian's Chromium for the browser end-to-end tests (test/e2e), if it is missing.
# Idempotent and quiet: does nothing when the browser is there; runs `apt-get update` only
# when the package lists do not know the package yet (or the first install attempt fails).
set -euo pipefail

BROWSER="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$BROWSER" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-browser: $BROWSER is missing and this user cannot run apt-get (not root, no sudo)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
}

# A fresh machine's package lists may be empty or stale: update only then.
if ! apt-cache show chromium >/dev/null 2>&1 || ! apt_install; then
  $SUDO apt-get update -qq >/dev/null
  apt_install
fi

if [ ! -x "$BROWSER" ]; then
  echo "install-browser: installed the chromium package, but $BROWSER is still missing" >&2
  exit 1
fi
echo "install-browser: $("$BROWSER" --version 2>/dev/null || echo chromium) installed"
