#!/usr/bin/env sh
# Install the servers the tests marked `server` start themselves: Debian's PostgreSQL (the
# feedback database for several app replicas; tests/integration/test_feedback_db.py runs initdb
# and postgres in a temp dir on 127.0.0.1). The Chroma server needs nothing here: `chroma run`
# comes with the chromadb Python package.
# Idempotent and quiet. It never starts or enables a service: Debian's default cluster is left
# stopped. Without root (or apt-get) it prints what to do and exits 0, so those tests skip.
set -eu

PACKAGES="postgresql"

if ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "PostgreSQL is already installed: $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Not installing PostgreSQL (needs root and apt-get). Run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends $PACKAGES" >&2
    echo "Until then, the PostgreSQL half of tests/integration/test_feedback_db.py is skipped." >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
policy_added=""
cleanup() {
    rm -f "$log"
    if [ -n "$policy_added" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT
# Quiet: apt's output is shown only when a step fails.
quietly() {
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "failed: $*" >&2
        exit 1
    fi
}
# Install without starting anything: where no policy-rc.d exists, one answering 101 ("not
# allowed") stands in for the install's duration, so Debian's default cluster is not started.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
fi
quietly apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
quietly apt-get install -y --no-install-recommends $PACKAGES
echo "installed PostgreSQL: $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"
