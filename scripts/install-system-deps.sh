#!/usr/bin/env bash
# System packages from Debian: Chromium (PDF reports; the tests drive it with Playwright from
# PyPI, which never downloads a browser of its own), CJK fonts so Chinese renders and prints,
# and gdal-bin (ogrinfo, the independent reader the export tests use).
#   install-system-deps.sh        what `make test` needs: chromium, fonts-noto-cjk, gdal-bin
#   install-system-deps.sh run    what `make run` needs for PDF reports: chromium, fonts-noto-cjk
set -euo pipefail
profile="${1:-test}"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ "$profile" = "test" ]; then
  command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
fi
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages present for $profile"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} — run as root, or: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
