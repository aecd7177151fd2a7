#!/usr/bin/env bash
# Installs playwright-core (the browser driver alone, without its own
# browsers) into a cache outside the repository, for the dashboard tests,
# which drive Debian's chromium with it. Prints the absolute path of the
# package directory on stdout (nothing else goes to stdout).
#
#   CCRUN_TEST_CACHE          cache root (default: $XDG_CACHE_HOME/ccrun-test,
#                             or ~/.cache/ccrun-test)
#   CCRUN_PLAYWRIGHT_VERSION  the npm version to install (default below)
set -euo pipefail

version=${CCRUN_PLAYWRIGHT_VERSION:-1.49.1}
cache=${CCRUN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ccrun-test}
prefix=$cache/playwright
pkg=$prefix/node_modules/playwright-core

die() {
	echo "setup-playwright: $*" >&2
	exit 1
}

installed_version() {
	[ -f "$pkg/package.json" ] || return 1
	node -e 'process.stdout.write(require(process.argv[1]).version)' "$pkg/package.json"
}

if [ "$(installed_version 2>/dev/null || true)" = "$version" ]; then
	printf '%s\n' "$(cd "$pkg" && pwd -P)"
	exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is not installed (apt-get install npm)"
mkdir -p "$prefix" || die "cannot create $prefix"
# A package.json of its own keeps npm from walking up to a parent project.
[ -f "$prefix/package.json" ] || echo '{"private": true}' >"$prefix/package.json"
echo "setup-playwright: installing playwright-core@$version into $prefix" >&2
# playwright-core downloads no browser; the tests use /usr/bin/chromium.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$prefix" --no-audit --no-fund \
	--save-exact "playwright-core@$version" >&2 ||
	die "npm install playwright-core@$version failed (is the npm registry reachable?)"
[ "$(installed_version)" = "$version" ] || die "playwright-core $version did not install"
printf '%s\n' "$(cd "$pkg" && pwd -P)"
