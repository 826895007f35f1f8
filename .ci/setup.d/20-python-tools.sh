#!/usr/bin/env bash
# Python test tools in a virtualenv outside the repository ("$MESHGW_CACHE/python-tools-<version>", see
# .ci/tool-versions.sh): moto's server (the AWS API stand-in), cfn-lint and checkov (template checks) and
# kubernetes-validate (Kubernetes JSON schemas, offline). Bump PYTHON_TOOLS_VERSION when this list changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/tool-versions.sh
VENV="$MESHGW_CACHE/python-tools-$PYTHON_TOOLS_VERSION"
STAMP="$VENV/.complete"
[ -e "$STAMP" ] && exit 0
echo "20-python-tools: creating $VENV (moto, cfn-lint, checkov, kubernetes-validate)" >&2
rm -rf "$VENV"
mkdir -p "$MESHGW_CACHE"
python3 -m venv "$VENV"
if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check \
  "moto[server]>=5.1,<6" "cfn-lint>=1.20,<2" "kubernetes-validate>=1.31" "checkov>=3.2,<4"; then
  echo "20-python-tools: pip could not install the Python test tools into $VENV; the aws tests need them" >&2
  exit 1
fi
touch "$STAMP"
