#!/usr/bin/env bash
# Helpers shared by .ci/setup.d/ steps (sourced, never run).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Puts a Go toolchain on PATH, installing Debian's when the machine has none.
ensure_go() {
  if ! command -v go >/dev/null 2>&1; then
    for candidate in /usr/local/go/bin /usr/lib/go/bin; do
      if [ -x "$candidate/go" ]; then PATH="$candidate:$PATH"; break; fi
    done
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "setup: Go is needed to build the test tools; installing golang-go with apt-get" >&2
    apt_install golang-go
  fi
  export PATH
}

# Stops the setup, and so npm test, naming the component that could not be built and why.
fail_build() {
  echo "setup: could not build $1: $2. The tests that need $1 cannot run without it." >&2
  exit 1
}
