#!/usr/bin/env bash
# Installs and starts what the test suite talks to, when the machine lacks it.
# Each part lives in its own script and checks before it acts, so this is safe to re-run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for part in setup-postgis.sh setup-chromium.sh setup-weasyprint.sh; do
  if [ -f "$here/$part" ]; then
    bash "$here/$part"
  fi
done
echo "test environment ready"
