#!/usr/bin/env bash
# Installs the Claude Code release the end-to-end tests are written against
# into a cache outside the repository, and prints the absolute path of its
# `claude` binary on stdout (nothing else goes to stdout).
#
#   CCRUN_TEST_CACHE   cache root (default: $XDG_CACHE_HOME/ccrun-test,
#                      or ~/.cache/ccrun-test)
#   CCRUN_CLAUDE_VERSION  the npm version to install (default below)
#
# Running it again is cheap: when the right version is already installed
# it only checks `claude --version`.
set -euo pipefail

version=${CCRUN_CLAUDE_VERSION:-2.1.197}
package=@anthropic-ai/claude-code
cache=${CCRUN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ccrun-test}
prefix=$cache/claude
bin=$prefix/node_modules/.bin/claude

die() {
	echo "setup-claude: $*" >&2
	exit 1
}

installed_version() {
	[ -x "$bin" ] || return 1
	# `claude --version` prints e.g. "2.1.197 (Claude Code)".
	local out
	out=$("$bin" --version 2>/dev/null) || return 1
	printf '%s\n' "${out%% *}"
}

if [ "$(installed_version || true)" = "$version" ]; then
	cd "$(dirname "$bin")"
	printf '%s/claude\n' "$(pwd -P)"
	exit 0
fi

command -v npm >/dev/null 2>&1 ||
	die "npm is not installed; install Node.js and npm (e.g. apt-get install npm)"

mkdir -p "$prefix" || die "cannot create $prefix"
# A package.json of its own keeps npm from walking up to a parent project.
[ -f "$prefix/package.json" ] || echo '{"private": true}' >"$prefix/package.json"

echo "setup-claude: installing $package@$version into $prefix" >&2
# npm prints progress on stdout; keep stdout for the path alone.
if ! npm install --prefix "$prefix" --no-audit --no-fund \
	--save-exact "$package@$version" >&2; then
	die "npm install $package@$version failed (is the npm registry reachable?)"
fi

# The package's postinstall puts the native binary in place of a stub; npm
# skips it under ignore-scripts or an install-scripts policy, so run it here.
if ! installed_version >/dev/null; then
	echo "setup-claude: running the package's postinstall step" >&2
	(cd "$prefix/node_modules/$package" && node install.cjs) >&2 ||
		die "the postinstall step of $package failed"
fi
got=$(installed_version) || die "$bin does not run after the install"
[ "$got" = "$version" ] || die "installed $package reports version '$got', expected $version"

cd "$(dirname "$bin")"
printf '%s/claude\n' "$(pwd -P)"
