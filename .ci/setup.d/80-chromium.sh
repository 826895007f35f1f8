#!/usr/bin/env bash
# A Chromium at /usr/bin/chromium for the headless-browser test of the evidence report (test/evidence/,
# driven by playwright-core, which downloads no browser of its own). Debian's chromium package; where
# there is none but Google Chrome is installed (GitHub's Ubuntu runners ship it, and Ubuntu's chromium
# package is only a snap shim), /usr/bin/chromium links to Chrome: playwright-core drives either over CDP.
# A distribution package, not a versioned download: apt keeps it patched. Idempotent: nothing happens
# when /usr/bin/chromium is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/setup-lib.sh
BIN=/usr/bin/chromium
CHROME=/usr/bin/google-chrome

if [ -x "$BIN" ]; then
  exit 0
fi
if [ -x "$CHROME" ]; then
  echo "80-chromium: linking $BIN to $CHROME" >&2
  as_root ln -s "$CHROME" "$BIN"
  exit 0
fi
echo "80-chromium: installing chromium with apt-get" >&2
apt_install chromium || fail_build chromium "apt-get install -y chromium failed"
[ -x "$BIN" ] || fail_build chromium "the chromium package did not install $BIN"
