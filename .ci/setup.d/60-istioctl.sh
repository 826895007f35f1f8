#!/usr/bin/env bash
# istioctl at a pinned version in "$MESHGW_CACHE/istioctl-<version>/bin", built with `go install` from the Go
# module proxy. The proxy refuses the release tags' commits (their go.mod replaces), so ISTIOCTL_VERSION is a
# master pseudo-version the proxy serves; see .ci/tool-versions.sh. test/k8s/ runs `istioctl analyze` and
# `istioctl validate` on what `meshgw deploy --dry-run` renders. The first build takes about 3 minutes on two
# cores. Idempotent: nothing happens when that version is already built.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/tool-versions.sh
. .ci/setup-lib.sh
BIN_DIR="$MESHGW_CACHE/istioctl-$ISTIOCTL_VERSION/bin"
BIN="$BIN_DIR/istioctl"

# `istioctl version --remote=false` runs offline; a binary that cannot answer it is rebuilt.
if [ -x "$BIN" ] && "$BIN" version --remote=false >/dev/null 2>&1; then
  exit 0
fi
ensure_go
mkdir -p "$BIN_DIR"
echo "60-istioctl: building istioctl $ISTIOCTL_VERSION into $BIN_DIR (about 3 minutes the first time)" >&2
# GOTOOLCHAIN=auto lets an older distribution Go fetch the toolchain istio's go.mod asks for.
GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false GOTOOLCHAIN=auto go install "istio.io/istio/istioctl/cmd/istioctl@v$ISTIOCTL_VERSION" \
  || fail_build istioctl "go install istio.io/istio/istioctl/cmd/istioctl@v$ISTIOCTL_VERSION failed"
"$BIN" version --remote=false >/dev/null || fail_build istioctl "$BIN was built but does not run"
