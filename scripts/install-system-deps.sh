#!/usr/bin/env bash
# System packages the test suite needs: Debian's Chromium (driven by Playwright from PyPI;
# Playwright never downloads a browser of its own) and CJK fonts so Chinese renders.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)  # an independent reader for exports
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages present: chromium, fonts-noto-cjk, gdal-bin"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} — run as root, or: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
