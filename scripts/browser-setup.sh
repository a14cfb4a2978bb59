#!/usr/bin/env bash
# What the browser tests need on a fresh machine: Debian's Chromium (Playwright drives it; we never
# download browsers) and axe-core from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x /usr/bin/chromium ]]; then
  echo "installing Debian's chromium for the browser tests"
  SUDO=""; [[ $(id -u) != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [[ ! -f node_modules/axe-core/axe.min.js ]]; then
  npm install --no-save --no-audit --no-fund --silent axe-core@4.14.1
fi
