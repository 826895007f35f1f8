#!/usr/bin/env bash
# The versions of every test tool built or installed outside the repository, one place for all of
# .ci/setup.d/ and test/support/tools.ts. Each tool lives in "$MESHGW_CACHE/<name>-<version>/", so a
# second run reuses it and a version change builds a fresh one beside the old.
# shellcheck disable=SC2034  # sourced by the setup steps
MESHGW_CACHE="${MESHGW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshgw}"
PYTHON_TOOLS_VERSION=2          # bump when the pip requirements in 20-python-tools.sh change
ACTIONLINT_VERSION=1.7.12
KUBE_VERSION=1.34.0             # kube-apiserver, built from the Go module proxy (shared/REAL-K8S.md)
ETCD_VERSION=3.6.5
ISTIOCTL_VERSION=0.0.0-20260827124520-eed52ebb66ad   # a 2026-08 master commit the proxy serves
PROMTOOL_VERSION=0.316.0         # promtool (Prometheus 3.16.0), built from the Go module proxy
