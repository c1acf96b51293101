#!/usr/bin/env bash
# Install missing system packages from Debian's archive and start the services a task
# needs. Usage: setup_system.sh run|test
#   run : redis-server (started by `medfollow run` when none answers), Node for Prism
#   test: the same plus PostgreSQL (started when down) and Chromium for browser tests
source "$(dirname "$0")/lib.sh"
mode="${1:-run}"

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "please install: ${missing[*]} (apt-get install ${missing[*]})" >&2; return 1
  fi
  local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  say "installing system packages: ${missing[*]}"
  if [ ! -f "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +1440)" ]; then
    $SUDO apt-get update -qq >&2 && touch "$CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
}

command -v redis-server >/dev/null || apt_install redis-server
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

if [ "$mode" = "test" ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis on 127.0.0.1:6379"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    say "starting PostgreSQL on 127.0.0.1:5432"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  # The tests connect as postgres over TCP. Where that needs a password (a fresh Debian
  # install), give postgres one and tell the tests.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
    echo "MEDFOLLOW_TEST_PG=postgresql://postgres:postgres@127.0.0.1:5432/postgres"
  fi
fi
