#!/usr/bin/env bash
# Installs Debian's libraries for WeasyPrint (PDF bulletins: `truce bulletin show --format pdf`)
# and poppler-utils (pdftoppm, which the tests use to look at the rendered pages).
# Idempotent: does nothing when both are present. WeasyPrint itself comes from PyPI.
set -euo pipefail
have_pango() { ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so.0" && ldconfig -p | grep -q "libpangoft2-1.0.so.0"; }
if have_pango && command -v pdftoppm >/dev/null 2>&1; then
  echo "weasyprint libraries and pdftoppm: present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install Pango (libpango-1.0-0, libpangoft2-1.0-0) and poppler-utils by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "not root (no sudo): run 'apt-get install libpango-1.0-0 libpangoft2-1.0-0 poppler-utils fonts-dejavu-core' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 poppler-utils fonts-dejavu-core
echo "weasyprint libraries and pdftoppm: installed"
