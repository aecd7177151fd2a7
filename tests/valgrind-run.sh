#!/usr/bin/env bash
# Builds the unit tests without sanitizers (valgrind cannot run ASan
# programs) in a tree of their own, CCR_VALGRIND_BUILD, and runs them under
# valgrind: `meson test --setup=valgrind --suite unit` there.
set -euo pipefail
: "${CCR_SOURCE_ROOT:?}" "${CCR_VALGRIND_BUILD:?}"
command -v valgrind > /dev/null || { echo "valgrind is not installed (shell/deps.sh --test)" >&2; exit 1; }
build=$CCR_VALGRIND_BUILD
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$CCR_SOURCE_ROOT" -Dwerror=true > "$build.setup.log" 2>&1 ||
        { cat "$build.setup.log" >&2; exit 1; }
fi
ninja -C "$build" -j2 > /dev/null
exec meson test -C "$build" --setup=valgrind --suite unit --print-errorlogs
