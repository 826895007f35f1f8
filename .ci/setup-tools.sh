#!/usr/bin/env bash
# Installs the tools the tests need, each step idempotent and quiet when already done.
# Every file in .ci/setup.d/ runs in name order; each owns one tool.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in .ci/setup.d/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
