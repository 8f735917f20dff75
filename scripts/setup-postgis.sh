#!/usr/bin/env bash
# PostgreSQL + PostGIS for the server tests: installs what is missing, starts the
# cluster, creates the `truce_test` database with the postgis extension.
# Idempotent: every step checks before it acts. Called by setup-test-env.sh.
#
# Env: TRUCE_PG_VERSION (default: the running cluster's, else 15),
#      TRUCE_TEST_DB (default truce_test), PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres).
set -euo pipefail

db="${TRUCE_TEST_DB:-truce_test}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

log() { echo "setup-postgis: $*"; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi
}

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "apt-get not available; install $* by hand"
    return 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -q
    apt_updated=1
  fi
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "$@"
}

# 1. PostgreSQL itself.
if ! command -v pg_lsclusters >/dev/null; then
  log "installing postgresql"
  apt_install postgresql postgresql-contrib
fi

# 2. Which major version runs here (or will)?
ver="${TRUCE_PG_VERSION:-}"
if [ -z "$ver" ]; then
  ver="$(pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1}')"
fi
if [ -z "$ver" ]; then
  ver="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)"
fi
ver="${ver:-15}"
log "PostgreSQL major version $ver"

# 3. PostGIS for that version.
if [ ! -f "/usr/share/postgresql/$ver/extension/postgis.control" ]; then
  log "installing postgresql-$ver-postgis-3"
  apt_install "postgresql-$ver-postgis-3"
fi

# 4. A cluster that runs.
if ! pg_lsclusters --no-header 2>/dev/null | awk '{print $1, $2}' | grep -qx "$ver main"; then
  log "creating cluster $ver/main"
  sudo_if_needed pg_createcluster "$ver" main
fi
if ! pg_lsclusters --no-header | awk -v v="$ver" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  log "starting cluster $ver/main"
  sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$ver" main start
fi

# 5. Trust auth for the tests on 127.0.0.1 (only when the cluster does not already allow it).
psql_cmd() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
if ! psql_cmd -d postgres -c "select 1" >/dev/null 2>&1; then
  hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if [ -f "$hba" ] && ! grep -q "truce-test" "$hba"; then
    log "allowing trust auth for postgres on 127.0.0.1 in $hba"
    sudo_if_needed sed -i "1i host all postgres 127.0.0.1/32 trust # truce-test" "$hba"
    sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
  fi
fi
for _ in $(seq 1 30); do
  psql_cmd -d postgres -c "select 1" >/dev/null 2>&1 && break
  sleep 1
done
psql_cmd -d postgres -c "select 1" >/dev/null

# 6. The test database with PostGIS.
if ! psql_cmd -d postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
  log "creating database $db"
  psql_cmd -d postgres -c "create database \"$db\""
fi
psql_cmd -d "$db" -c "create extension if not exists postgis"
log "ready: postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$db ($(psql_cmd -d "$db" -tAc 'select postgis_lib_version()'))"
