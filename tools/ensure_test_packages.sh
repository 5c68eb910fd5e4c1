#!/bin/sh
# Debian's packages some tests need: nginx and openssl (two bot instances behind nginx,
# tests/e2e/test_two_instances.py) and Chromium (the web console's browser test,
# tests/integration/web/test_browser.py, driven by Playwright without downloading a browser). Installed
# with apt-get when missing and we are root; otherwise one line says why not (those tests then
# skip, and fail with CI=true).
set -eu

missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing=" nginx"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
# A Chinese font, so that the browser test's screenshots show words, not boxes.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$missing fonts-wqy-microhei"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "not installed:$missing (installing needs root and apt-get): the tests that need" \
        "them will be skipped; install Debian's packages$missing"
    exit 0
fi
echo "installing Debian's$missing for the tests that need them"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one package name per word
apt-get install -y -qq --no-install-recommends $missing >/dev/null
