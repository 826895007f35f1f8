#!/usr/bin/env bash
# A real Kubernetes API server for the tests (test/support/real-cluster.ts): kube-apiserver v$KUBE_VERSION and
# etcd v$ETCD_VERSION, built from the Go module proxy into "$MESHGW_CACHE/kube-apiserver-<version>/bin" and
# "$MESHGW_CACHE/etcd-<version>/bin". Nothing ships these binaries offline (no Debian package; setup-envtest and
# kwok download them from GitHub), so they are built here. Idempotent: a binary that reports the wanted version is kept.
#
# `go install k8s.io/kubernetes/cmd/kube-apiserver@v…` is refused because k8s.io/kubernetes's go.mod replaces its
# staging modules with ./staging paths; the maintainers' workaround (kubernetes/kubernetes#79384) is a throwaway
# wrapper module that requires k8s.io/kubernetes and replaces each staging module with its published v0.<minor>.<patch>.
# etcd's server module has relative replaces too, so it gets a wrapper module as well. First build: ~3 min + ~15 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/tool-versions.sh
. .ci/setup-lib.sh

KAS_DIR="$MESHGW_CACHE/kube-apiserver-$KUBE_VERSION/bin"
ETCD_DIR="$MESHGW_CACHE/etcd-$ETCD_VERSION/bin"
KAS="$KAS_DIR/kube-apiserver"
ETCD="$ETCD_DIR/etcd"
export GOFLAGS=-buildvcs=false

kas_ok() { [ -x "$KAS" ] && [ "$("$KAS" --version 2>/dev/null)" = "Kubernetes v$KUBE_VERSION" ]; }
etcd_ok() { [ -x "$ETCD" ] && "$ETCD" --version 2>/dev/null | grep -qx "etcd Version: $ETCD_VERSION"; }

if kas_ok && etcd_ok; then exit 0; fi
ensure_go
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

build_kube_apiserver() {
  local minor patch staging_version gomod
  minor="$(echo "$KUBE_VERSION" | cut -d. -f2)"
  patch="$(echo "$KUBE_VERSION" | cut -d. -f3)"
  staging_version="v0.$minor.$patch"
  mkdir -p "$WORK/kas" && cd "$WORK/kas"
  gomod="$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')" \
    || fail_build kube-apiserver "the Go module proxy did not serve k8s.io/kubernetes@v$KUBE_VERSION"
  [ -f "$gomod" ] || fail_build kube-apiserver "no go.mod for k8s.io/kubernetes@v$KUBE_VERSION in the module cache"
  {
    echo 'module kaswrap'
    echo 'go 1.24'
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging' "$gomod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } > go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n' > tools.go
  go mod tidy || fail_build kube-apiserver "go mod tidy of the wrapper module failed (are the staging modules $staging_version served?)"
  # Without these -X flags the server reports v0.0.0-master, which kubectl and client libraries cannot parse.
  go build -ldflags "-X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    -o "$WORK/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver || fail_build kube-apiserver "go build k8s.io/kubernetes/cmd/kube-apiserver failed"
  mkdir -p "$KAS_DIR"
  mv "$WORK/kube-apiserver" "$KAS"
  cd - >/dev/null
}

build_etcd() {
  mkdir -p "$WORK/etcd" && cd "$WORK/etcd"
  printf 'module etcdwrap\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" > go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\n' > tools.go
  go mod tidy || fail_build etcd "go mod tidy of the wrapper module for go.etcd.io/etcd/server/v3@v$ETCD_VERSION failed"
  go build -o "$WORK/etcd-bin" go.etcd.io/etcd/server/v3 || fail_build etcd "go build go.etcd.io/etcd/server/v3 failed"
  mkdir -p "$ETCD_DIR"
  mv "$WORK/etcd-bin" "$ETCD"
  cd - >/dev/null
}

if ! kas_ok; then
  echo "50-kube-apiserver: building kube-apiserver v$KUBE_VERSION into $KAS_DIR (about 3 minutes the first time)" >&2
  build_kube_apiserver
  kas_ok || fail_build kube-apiserver "the built binary does not report Kubernetes v$KUBE_VERSION"
fi
if ! etcd_ok; then
  echo "50-kube-apiserver: building etcd v$ETCD_VERSION into $ETCD_DIR" >&2
  build_etcd
  etcd_ok || fail_build etcd "the built binary does not report etcd Version: $ETCD_VERSION"
fi
