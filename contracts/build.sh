#!/usr/bin/env bash
# Compiles the settlement contracts with the pinned solc (npm package `solc`, see package.json):
# standard JSON, optimizer on, evmVersion prague. Writes contracts/out/<Name>.json (abi and
# bytecode) and contracts/out/sources.sha256, which are committed: the Rust crates read them
# and a cargo test checks that sources.sha256 matches src/ (so no one needs solc to build).
#
#   contracts/build.sh           install the pinned npm packages (once) and compile into out/
#   contracts/build.sh --check   compile into a temporary folder; fail if out/ is stale
#
# The npm packages (solc and anvil, see scripts/l1.sh) live in $EMR_NPM_DIR
# (default $HOME/.cache/emr-chain/npm-l1), installed from package-lock.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
npm_dir="${EMR_NPM_DIR:-$HOME/.cache/emr-chain/npm-l1}"

# npm ci only when the lock file changed or nothing is installed yet. One installer at a time
# (a lock on the folder); the marker `.installed` (the lock file's hash) is written after npm ci
# succeeded, by rename, so an install cut short is made again, not taken for done.
install() {
	mkdir -p "$npm_dir"
	exec 9>"$npm_dir/.install.lock"
	flock 9
	local want
	want=$(sha256sum <"$here/package-lock.json" | cut -d' ' -f1)
	if [ "$(cat "$npm_dir/.installed" 2>/dev/null)" != "$want" ] || [ ! -d "$npm_dir/node_modules/solc" ]; then
		rm -f "$npm_dir/.installed"
		cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
		(cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
		echo "$want" >"$npm_dir/.installed.tmp"
		mv -f "$npm_dir/.installed.tmp" "$npm_dir/.installed"
	fi
	exec 9>&-
}

case "${1:-}" in
--install-only)
	install
	;;
--check)
	install
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	node "$here/build.mjs" "$npm_dir/node_modules" "$tmp" 2>/dev/null
	if ! diff -r "$here/out" "$tmp" >&2; then
		echo "contracts/out is stale: run contracts/build.sh and commit contracts/out" >&2
		exit 1
	fi
	echo "contracts/out is up to date" >&2
	;;
"")
	install
	node "$here/build.mjs" "$npm_dir/node_modules" "$here/out"
	;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac
