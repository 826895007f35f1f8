#!/usr/bin/env bash
# Python test tools in a project-local virtualenv (.venv): moto's server (the AWS API stand-in),
# cfn-lint (template checks) and kubernetes-validate (Kubernetes JSON schemas, offline).
set -euo pipefail
VENV=.venv
STAMP="$VENV/.meshgw-tools-v1"
[ -e "$STAMP" ] && exit 0
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5.1,<6" "cfn-lint>=1.20,<2" "kubernetes-validate>=1.31"
touch "$STAMP"
