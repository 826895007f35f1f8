#!/usr/bin/env bash
# Installs Debian's nginx (the reference reverse proxy the benchmark compares the gateway with).
# Idempotent: does nothing when nginx is already on PATH. Run as root.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq nginx-light || apt-get install -y -qq nginx
# The package may start the system service on port 80; the benchmark runs its own instance.
if command -v systemctl >/dev/null 2>&1; then systemctl stop nginx 2>/dev/null || true; fi
