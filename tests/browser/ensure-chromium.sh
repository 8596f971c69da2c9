#!/usr/bin/env bash
# Make sure Debian chromium and a CJK font are present for the browser tests.
# Exit 0 when they are (installing them with apt when running as root), 1 otherwise.
# The Makefile runs this as `bash tests/browser/ensure-chromium.sh || true` before pytest;
# without chromium the browser tests skip (or fail, with REQUIRE_BROWSER=1).
set -u

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

have_all() {
    [ -x "$CHROMIUM" ] && command -v fc-list >/dev/null 2>&1 && fc-list | grep -qi cjk
}

if have_all; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log="$(mktemp "${TMPDIR:-/tmp}/ensure-chromium.XXXXXX.log")"
    if { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
       } >"$log" 2>&1 && have_all; then
        echo "installed chromium and fonts-noto-cjk with apt-get (log: $log)"
        exit 0
    fi
    echo "apt-get could not install chromium and fonts-noto-cjk (log: $log)" >&2
fi

echo "chromium not available: the browser tests will not run"
exit 1
