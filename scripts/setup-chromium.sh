#!/usr/bin/env bash
# Installs Debian's `chromium` for the browser tests (tests/web), when it is missing.
# Idempotent: does nothing when /usr/bin/chromium already exists.
# The tests drive it with Playwright for Python; never `playwright install`
# (that downloads a browser from the internet, which a closed network cannot do).
set -euo pipefail
CHROMIUM="${TRUCE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present) at $CHROMIUM"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing at $CHROMIUM and apt-get is not available: install Chromium by hand" >&2
  echo "(or set TRUCE_CHROMIUM to its path)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "chromium missing and not root (no sudo): run 'apt-get install chromium' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# fonts-dejavu-core: readable text in screenshots on minimal images.
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed) at $CHROMIUM"
