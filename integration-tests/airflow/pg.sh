#!/usr/bin/env bash
#
# A throwaway PostgreSQL server for the real-Airflow tests, from Debian's postgresql package.
#
#   integration-tests/airflow/pg.sh start DIR PORT [DB...]  # initdb in DIR, listen on 127.0.0.1:PORT,
#                                                           # role "airflow" (trust), databases DB...
#                                                           # (default: airflow)
#   integration-tests/airflow/pg.sh stop DIR         # pg_ctl stop -m fast (exit 0 if not running)
#
# The server listens on loopback only (unless PG_LISTEN says otherwise); its socket and log are
# in DIR. Run as root, the server runs as the "postgres" user (initdb refuses root), so DIR must be
# one the postgres user can reach: this script creates DIR and gives it to postgres. It prints
# Airflow's URL for the first DB:
#   postgresql+psycopg2://airflow@127.0.0.1:PORT/airflow
#
# Environment: PG_BIN (default: the newest /usr/lib/postgresql/*/bin); PG_LISTEN, the address to
# listen on (default 127.0.0.1; e.g. a proving-ground host's address); PG_ALLOW, a CIDR whose
# clients are trusted too (default none: only loopback and the socket).
# Exit codes: 0 ok, 1 failure, 2 usage.

set -o errexit -o nounset -o pipefail

readonly NAME=pg.sh

usage() {
  echo "usage: $NAME start DIR PORT [DB...] | stop DIR" >&2
  exit 2
}

fail() {
  echo "$NAME: $*" >&2
  exit 1
}

pg_bin() {
  if [[ -n ${PG_BIN:-} ]]; then
    echo "$PG_BIN"
    return
  fi
  local newest
  newest=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [[ -n $newest ]] || fail "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$newest"
}

# Runs a command as the postgres user when we are root, as ourselves otherwise.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

[[ $# -ge 2 ]] || usage
command=$1
dir=$2
bin=$(pg_bin)

case $command in
  start)
    [[ $# -ge 3 && $3 =~ ^[0-9]+$ ]] || usage
    port=$3
    shift 3
    databases=("$@")
    ((${#databases[@]})) || databases=(airflow)
    mkdir -p -- "$dir"
    dir=$(readlink -f -- "$dir")
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: -- "$dir"
    fi
    if [[ ! -f $dir/data/PG_VERSION ]]; then
      as_owner "$bin/initdb" --pgdata="$dir/data" --username=airflow --auth=trust --encoding=UTF8 \
        --no-sync >"$dir/initdb.log" 2>&1 || fail "initdb failed; see $dir/initdb.log"
    fi
    listen=${PG_LISTEN:-127.0.0.1}
    [[ $listen =~ ^[0-9.]+$ ]] || fail "PG_LISTEN must be an IPv4 address, not '$listen'"
    if [[ -n ${PG_ALLOW:-} ]]; then
      [[ $PG_ALLOW =~ ^[0-9.]+/[0-9]+$ ]] || fail "PG_ALLOW must be an IPv4 CIDR, not '$PG_ALLOW'"
      line="host all all $PG_ALLOW trust"
      grep -qxF -- "$line" "$dir/data/pg_hba.conf" || echo "$line" | as_owner tee -a "$dir/data/pg_hba.conf" >/dev/null
    fi
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait --timeout=60 \
      -o "-c listen_addresses=$listen -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null ||
      fail "the server did not start; see $dir/postgres.log"
    for db in "${databases[@]}"; do
      [[ $db =~ ^[a-z][a-z0-9_]*$ ]] || fail "bad database name $db"
      if ! as_owner "$bin/psql" -h "$listen" -p "$port" -U airflow -d postgres -tAc \
        "select 1 from pg_database where datname = '$db'" | grep -q 1; then
        as_owner "$bin/createdb" -h "$listen" -p "$port" -U airflow "$db" || fail "createdb $db failed"
      fi
    done
    echo "postgresql+psycopg2://airflow@$listen:$port/${databases[0]}"
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    [[ -f $dir/data/postmaster.pid ]] || exit 0
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=60 stop >/dev/null ||
      fail "pg_ctl stop failed; see $dir/postgres.log"
    ;;
  *)
    usage
    ;;
esac
