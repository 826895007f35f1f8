#!/usr/bin/env bash
# actionlint (the GitHub Actions workflow linter) at a pinned version in "$MESHGW_CACHE/actionlint-<version>/bin",
# built with `go install`, and shellcheck, which actionlint runs on every `run:` script. test/cicd/ lints
# .github/workflows/*.yml with them. Idempotent: nothing happens when that actionlint version and shellcheck are there.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/tool-versions.sh
. .ci/setup-lib.sh
BIN_DIR="$MESHGW_CACHE/actionlint-$ACTIONLINT_VERSION/bin"
BIN="$BIN_DIR/actionlint"

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "40-actionlint: installing shellcheck with apt-get" >&2
  apt_install shellcheck
fi
if [ -x "$BIN" ] && [ "$("$BIN" -version 2>/dev/null | head -n 1)" = "v$ACTIONLINT_VERSION" ]; then
  exit 0
fi
ensure_go
mkdir -p "$BIN_DIR"
echo "40-actionlint: building actionlint v$ACTIONLINT_VERSION into $BIN_DIR" >&2
# GOTOOLCHAIN=auto lets an older distribution Go fetch the toolchain actionlint's go.mod asks for.
GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false GOTOOLCHAIN=auto go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" \
  || fail_build actionlint "go install github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION failed"
"$BIN" -version >/dev/null
