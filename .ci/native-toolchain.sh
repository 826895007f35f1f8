#!/usr/bin/env bash
# better-sqlite3 (the local target's database) compiles its addon with node-gyp when no prebuilt
# binary can be downloaded, as on machines that reach only the package registries. npm ci needs a
# C++ compiler, make and Python for that; install Debian's when one is missing.
set -euo pipefail
source "$(dirname "$0")/setup-lib.sh"
missing=()
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get to build better-sqlite3" >&2
  apt_install "${missing[@]}"
fi
