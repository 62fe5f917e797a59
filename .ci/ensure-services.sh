#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis that the integration tests use are up; starts them when they
# are installed but stopped, and says in one line what is missing when it cannot.
set -u
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}

pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null || (exec 3<>"/dev/tcp/$PGHOST/$PGPORT") 2>/dev/null; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on $PGHOST:$PGPORT: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || { echo "MISSING: PostgreSQL on $PGHOST:$PGPORT (user postgres, trust auth); install it or set TEST_DATABASE_URL." >&2; exit 1; }
fi

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Redis is not answering on $REDIS_HOST:$REDIS_PORT: starting it"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null || true
    for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  fi
  redis_up || { echo "MISSING: Redis on $REDIS_HOST:$REDIS_PORT; install redis-server or set TEST_REDIS_URL." >&2; exit 1; }
fi
echo "services: PostgreSQL $PGHOST:$PGPORT and Redis $REDIS_HOST:$REDIS_PORT are up"
