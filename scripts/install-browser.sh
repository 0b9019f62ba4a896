#!/usr/bin/env sh
# Install the headless browser the browser tests use: Debian's chromium, a Japanese font
# (IPA Gothic) and a colour emoji font (the UI's 👍/👎 and tab icons render as boxes without it).
# Idempotent. Never runs `playwright install` (Playwright drives /usr/bin/chromium directly).
# Without root (or apt-get) it prints what to do and exits 0, so tests marked `browser` skip.
set -eu

PACKAGES="chromium fonts-ipafont-gothic fonts-noto-color-emoji"

if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "IPAPGothic" \
    && fc-list 2>/dev/null | grep -qi "Noto Color Emoji"; then
    echo "chromium and its fonts are already installed: $(command -v chromium)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Not installing the browser (needs root and apt-get). Run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends $PACKAGES" >&2
    echo "Until then, tests marked 'browser' are skipped." >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y --no-install-recommends $PACKAGES
echo "installed: $(command -v chromium)"
