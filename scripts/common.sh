# Shared settings of the scripts (sourced, not run; the sourcing script sets -euo pipefail).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One target directory for every build (developers' and CI's), so nothing is compiled twice.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/emr-chain/target}"
NODE_BIN="$CARGO_TARGET_DIR/release/emr-node"

# Drops the message-cycle report that polkadot-overseer's proc macro prints on every build.
drop_overseer_noise() {
	grep -v -E '^(⚡ Found [0-9]+ strongly connected|cycle\([0-9]+\))' || true
}

# Builds the release binaries (node, prover, client) and every test target, unless already up to
# date (cargo decides; a no-op takes seconds). Always the whole workspace with all targets: that is
# the feature set `cargo test --workspace` resolves (dev-dependencies switch on features of crates
# such as `rand` deep under sp-core), so the node is compiled once, not once per feature set.
build_node() {
	echo "==> cargo build --release --workspace --all-targets (target dir: $CARGO_TARGET_DIR)"
	local status=0
	(cd "$ROOT" && cargo build --release --locked --workspace --all-targets 2>&1) | drop_overseer_noise || status=$?
	[ "$status" -eq 0 ] || echo "the release build failed (exit $status)" >&2
	return "$status"
}

# JSON-RPC call over HTTP: rpc PORT METHOD [PARAMS-JSON]
rpc() {
	curl -s --max-time 10 -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":${3:-[]}}" "http://127.0.0.1:$1"
}

# Waits up to 60 s until the JSON-RPC server on port $1 answers; fails otherwise.
wait_rpc() {
	for _ in $(seq 1 600); do
		rpc "$1" system_health >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "no JSON-RPC answer on port $1 within 60 s" >&2
	return 1
}
