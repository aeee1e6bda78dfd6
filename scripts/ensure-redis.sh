#!/usr/bin/env bash
# The Redis token-cache tests need a Redis server at REDIS_URL (default 127.0.0.1:6379), and
# redis-server and redis-cli to start their own (outage, Cluster and Sentinel tests). Installs
# Debian's redis-server and redis-tools if either is missing, then starts a server if none answers.
set -euo pipefail
url="${REDIS_URL:-redis://127.0.0.1:6379}"
hostport="${url#redis://}"; hostport="${hostport%%/*}"; hostport="${hostport##*@}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "ensure-redis: installing redis-server and redis-tools" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi
answers && exit 0
if [ "$host" != "127.0.0.1" ] && [ "$host" != "localhost" ]; then
  echo "ensure-redis: no Redis answers at $host:$port" >&2
  exit 1
fi
echo "ensure-redis: starting redis-server on $host:$port" >&2
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --logfile "${TMPDIR:-/tmp}/drillster-auth-redis.log"
for _ in $(seq 1 50); do answers && exit 0; sleep 0.1; done
echo "ensure-redis: redis-server did not come up on $host:$port" >&2
exit 1
