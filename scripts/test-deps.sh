#!/usr/bin/env bash
# What only the tests need, fetched by `pnpm test` before it runs (each step skipped when its result
# is already there, so later runs start at once): Java 17+ and Maven (apt, when missing and we may),
# Apache Kafka's broker jars from Maven Central into ${XDG_CACHE_HOME:-~/.cache}/snoopy/kafka-<version>,
# the schema registry the codecs tests run against (Apicurio Registry, built once into
# ~/.cache/snoopy), and Debian's postgresql and redis-server. KAFKA_BOOTSTRAP_SERVERS / SNOOPY_SCHEMA_REGISTRY_URL skip what they replace.
# No stdin needed.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# Real PostgreSQL and Redis servers for the feed, postgres, http and gateway suites
# (test/postgres/postgres.mjs and test/redis/redis.mjs start them on free ports in temp folders).
need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    echo "test-deps: installing ${need_apt[*]}"
    as_root apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" </dev/null
  else
    echo "test-deps: ${need_apt[*]} missing; the suites that need them skip (or fail with CI=true)" >&2
  fi
fi

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    echo "test-deps: installing Java 17 and Maven for the test broker and schema registry"
    as_root apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq openjdk-17-jre-headless maven </dev/null
  else
    echo "test-deps: Java 17+ and Maven are missing; the Kafka and schema registry suites cannot start their servers" >&2
    exit 0
  fi
fi

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [ "${SNOOPY_KAFKA_BROKER:-}" != off ]; then
  node test/broker/broker.mjs fetch </dev/null >/dev/null
fi
if [ -z "${SNOOPY_SCHEMA_REGISTRY_URL:-}" ]; then
  bash test/registry/install.sh </dev/null >/dev/null
fi
