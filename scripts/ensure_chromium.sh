#!/usr/bin/env bash
# The browser test drives Debian's chromium through the playwright package (never
# `playwright install`). Install it when missing and we are allowed to (root).
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the browser test will be skipped" >&2
else
  echo "note: chromium not found; the browser test will be skipped (apt-get install chromium)" >&2
fi
