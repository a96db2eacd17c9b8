#!/usr/bin/env bash
# Installs every Debian package Pastiche needs to build, test and run.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libtorch-dev libopenblas0-pthread libgoogle-perftools-dev
  libopencv-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libcpp-httplib-dev libmicrohttpd-dev nlohmann-json3-dev libsqlite3-dev libzip-dev
  postgresql libpqxx-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format
  clang libclang-rt-14-dev
  chromium
  python3-pil
)
# Node.js >= 20 builds the web UI; Debian 12's own nodejs is 18, so only install it when no node
# is present at all (build-web.sh then explains what is missing).
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
