#!/usr/bin/env bash
# Installs from Debian's packages what ccrun needs to build, and with --test
# what its tests need too. Installs nothing that is already there.
set -euo pipefail

build_pkgs=(gcc libc6-dev pkg-config meson ninja-build libuv1-dev libprotobuf-c-dev
            protobuf-c-compiler libsqlite3-dev libsodium-dev libhttp-parser-dev libjansson-dev
            libinih-dev zlib1g-dev libnghttp2-dev libcurl4-openssl-dev libjs-chart.js)
test_pkgs=(git python3 tmux sqlite3 procps curl clang-14 libclang-rt-14-dev valgrind util-linux
           chromium)

want=("${build_pkgs[@]}")
[ "${1:-}" = --test ] && want+=("${test_pkgs[@]}")
# Claude Code comes from npm; any working npm will do, Debian's if there is none.
if [ "${1:-}" = --test ] || [ "${1:-}" = --claude ]; then
    command -v npm > /dev/null 2>&1 || want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ccrun: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
