#!/bin/sh
# Debian's nginx (and openssl, for its test certificate), for the test that runs two bot
# instances behind it (tests/e2e/test_two_instances.py). Installed with apt-get when missing and
# we are root; otherwise one line says why not (that test then skips, and fails with CI=true).
set -eu

missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing=" nginx"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "not installed:$missing (installing needs root and apt-get):" \
        "tests/e2e/test_two_instances.py will be skipped; install Debian's packages$missing"
    exit 0
fi
echo "installing Debian's$missing for tests/e2e/test_two_instances.py"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one package name per word
apt-get install -y -qq --no-install-recommends $missing >/dev/null
