#!/usr/bin/env bash
# actionlint (the GitHub Actions workflow linter) at a pinned version in .tools/bin, built with `go install`,
# and shellcheck, which actionlint runs on every `run:` script. test/cicd/ lints .github/workflows/*.yml
# with them. Idempotent: nothing happens when that actionlint version and shellcheck are already there.
set -euo pipefail
ACTIONLINT_VERSION=1.7.12
BIN_DIR="$PWD/.tools/bin"
BIN="$BIN_DIR/actionlint"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "40-actionlint: installing shellcheck with apt-get" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi

if [ -x "$BIN" ] && [ "$("$BIN" -version 2>/dev/null | head -n 1)" = "v$ACTIONLINT_VERSION" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  for candidate in /usr/local/go/bin /usr/lib/go/bin; do
    if [ -x "$candidate/go" ]; then PATH="$candidate:$PATH"; break; fi
  done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "40-actionlint: Go is needed to build actionlint; installing golang-go with apt-get" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
fi
mkdir -p "$BIN_DIR"
echo "40-actionlint: building actionlint v$ACTIONLINT_VERSION into .tools/bin" >&2
# GOTOOLCHAIN=auto lets an older distribution Go fetch the toolchain actionlint's go.mod asks for.
GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false GOTOOLCHAIN=auto go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
"$BIN" -version >/dev/null
