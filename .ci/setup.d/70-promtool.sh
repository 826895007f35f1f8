#!/usr/bin/env bash
# promtool (Prometheus' rule checker and rule unit-tester) at a pinned version in
# "$MESHGW_CACHE/promtool-<version>/bin", built with `go install` from the Go module proxy. The Prometheus
# module tags v0.3XY.Z are the Go-module form of Prometheus 3.XY.Z. test/alerts/ runs `promtool check rules`
# and `promtool test rules` on manifests/prometheus/meshgw-alerts.yaml and compares meshgw's own evaluator
# with promtool's. The first build takes several minutes on two cores. Idempotent: nothing happens when that
# version is already built.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/tool-versions.sh
. .ci/setup-lib.sh
BIN_DIR="$MESHGW_CACHE/promtool-$PROMTOOL_VERSION/bin"
BIN="$BIN_DIR/promtool"

# `promtool --version` runs offline; a binary that cannot answer it is rebuilt.
if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  exit 0
fi
ensure_go
mkdir -p "$BIN_DIR"
echo "70-promtool: building promtool $PROMTOOL_VERSION into $BIN_DIR (several minutes the first time)" >&2
# GOTOOLCHAIN=auto lets an older distribution Go fetch the toolchain prometheus' go.mod asks for.
GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false GOTOOLCHAIN=auto go install "github.com/prometheus/prometheus/cmd/promtool@v$PROMTOOL_VERSION" \
  || fail_build promtool "go install github.com/prometheus/prometheus/cmd/promtool@v$PROMTOOL_VERSION failed"
"$BIN" --version >/dev/null || fail_build promtool "$BIN was built but does not run"
