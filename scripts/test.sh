#!/usr/bin/env bash
# Sets up the machine, builds the release binaries and runs every test (what CI runs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"

echo "==> cargo fmt --check"
cargo fmt --all -- --check

build_node

echo "==> cargo clippy -- -D warnings"
cargo clippy --release --locked --workspace --all-targets -- -D warnings 2>&1 | drop_overseer_noise

echo "==> js-ipfs for the client's daemon tests (scripts/ipfs.sh install; npm, once)"
"$ROOT/scripts/ipfs.sh" install

echo "==> solc and anvil for the settlement contracts (scripts/l1.sh install; npm, once); contracts/out up to date"
"$ROOT/scripts/l1.sh" install
"$ROOT/contracts/build.sh" --check

echo "==> the test binaries of cargo test --release, three at a time (scripts/run-tests.sh)"
"$ROOT/scripts/run-tests.sh"
echo "==> cargo test --release --doc"
cargo test --release --locked --workspace --doc

if docker info >/dev/null 2>&1; then
	echo "==> docker/test.sh: images, the four-hospital compose network, an operation to settled, a restart, compose down"
	"$ROOT/docker/test.sh"
else
	echo "==> docker/test.sh NOT RUN: no docker daemon answers (scripts/setup.sh installs and starts one where it can)" >&2
fi
