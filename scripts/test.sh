#!/usr/bin/env bash
# Sets up the machine, builds the release binaries and runs every test (what CI runs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"

# What the tests share and cargo does not build is fetched while cargo compiles (mostly
# downloads, little CPU): the npm packages (js-ipfs; solc and anvil) and the docker test's Debian
# bases (debootstrap). The scripts lock and publish by rename, so nothing sees half of them.
npm_log="$(mktemp "${TMPDIR:-/tmp}/emr-npm.XXXXXX")"
echo "==> js-ipfs, solc and anvil in the background (scripts/ipfs.sh install, scripts/l1.sh install; log: $npm_log)"
("$ROOT/scripts/ipfs.sh" install && "$ROOT/scripts/l1.sh" install) >"$npm_log" 2>&1 &
npm_pid=$!
bases_pid=""
bases_log="$(mktemp "${TMPDIR:-/tmp}/emr-docker-bases.XXXXXX")"
if docker info >/dev/null 2>&1; then
	echo "==> docker/build.sh --bases in the background (the docker test's Debian bases; log: $bases_log)"
	"$ROOT/docker/build.sh" --bases >"$bases_log" 2>&1 &
	bases_pid=$!
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> the structure: crate layers, no import circle between files (scripts/structure.py); no Ethereum client in pallet-rollup's tests"
python3 "$ROOT/scripts/structure.py" >/dev/null
if cargo tree --locked -p pallet-rollup -e normal,dev | grep -q alloy; then
	echo "pallet-rollup's dependency tree (normal and dev) contains alloy" >&2
	exit 1
fi

build_node

echo "==> cargo build --release --target wasm32-unknown-unknown -p emr-client-core (the client core a browser runs)"
cargo build --release --locked --target wasm32-unknown-unknown -p emr-client-core

echo "==> cargo clippy -- -D warnings"
cargo clippy --release --locked --workspace --all-targets -- -D warnings 2>&1 | drop_overseer_noise

echo "==> js-ipfs, solc and anvil installed (waiting for the background install); contracts/out up to date"
wait "$npm_pid" || { cat "$npm_log" >&2; echo "the npm installs failed" >&2; exit 1; }
"$ROOT/contracts/build.sh" --check

# From here on a failure is counted, not fatal: every step runs, and the summary names what
# failed or was skipped and why.
failed=()
step() {
	local name="$1"
	shift
	"$@" || failed+=("$name (exit $?)")
}

echo "==> the test binaries of cargo test --release, three at a time (scripts/run-tests.sh)"
step "test binaries (scripts/run-tests.sh)" "$ROOT/scripts/run-tests.sh"
echo "==> cargo test --release --doc"
step "doc tests" cargo test --release --locked --workspace --doc

docker_note="ran"
if docker info >/dev/null 2>&1; then
	if [ -n "$bases_pid" ] && ! wait "$bases_pid"; then
		cat "$bases_log" >&2
		echo "==> the docker bases were not made in the background; docker/build.sh makes them now" >&2
	fi
	echo "==> docker/test.sh: images, the four-hospital compose network, an operation to settled, a restart, compose down"
	step "docker/test.sh" "$ROOT/docker/test.sh"
else
	docker_note="NOT RUN: no docker daemon answers (scripts/setup.sh installs and starts one where it can)"
	echo "==> docker/test.sh $docker_note" >&2
	# CI must not pass without the only test of the consortium's containers.
	if [ -n "${CI:-}" ]; then failed+=("docker/test.sh: $docker_note"); fi
fi

echo "==> summary: test binaries, doc tests, docker test ($docker_note)"
if ((${#failed[@]})); then
	echo "==> FAILED:" >&2
	printf '    %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "==> everything passed"
