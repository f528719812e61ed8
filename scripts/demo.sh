#!/usr/bin/env bash
# The emr-chain story, end to end. For now (foundation issue): a development node starts with
# its embedded defaults, produces blocks with Aura and finalizes them with GRANDPA.
#
#   scripts/demo.sh            run for 60 seconds
#   EMR_DEMO_SECONDS=120 scripts/demo.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SECONDS_TO_RUN="${EMR_DEMO_SECONDS:-60}"
RPC_PORT="${EMR_DEMO_RPC_PORT:-9944}"
RUN_DIR="$(mktemp -d -t emr-demo-XXXXXX)"

"$ROOT/scripts/setup.sh"
build_node

cleanup() {
	if [ -n "${NODE_PID:-}" ] && kill -0 "$NODE_PID" 2>/dev/null; then
		kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
		rm -rf "$RUN_DIR/data"
		echo "==> node stopped and its temporary database removed; its log is $RUN_DIR/node.log"
	fi
}
trap cleanup EXIT

if curl -s --max-time 1 "http://127.0.0.1:$RPC_PORT" >/dev/null 2>&1; then
	echo "port $RPC_PORT is taken (is another node running?); set EMR_DEMO_RPC_PORT" >&2
	exit 1
fi

echo "==> starting a development node (one hospital validator, Alice) in $RUN_DIR"
"$NODE_BIN" --dev --base-path "$RUN_DIR/data" --rpc-port "$RPC_PORT" --port 0 \
	--no-prometheus --no-telemetry >"$RUN_DIR/node.log" 2>&1 &
NODE_PID=$!
SECONDS=0

for _ in $(seq 1 60); do
	rpc "$RPC_PORT" system_health >/dev/null 2>&1 && break
	kill -0 "$NODE_PID" 2>/dev/null || { echo "the node exited; log:"; tail -20 "$RUN_DIR/node.log"; exit 1; }
	sleep 1
done

chain=$(rpc "$RPC_PORT" system_chain | jq -r .result)
version=$(rpc "$RPC_PORT" state_getRuntimeVersion | jq -r '"\(.result.specName) v\(.result.specVersion)"')
node_version=$(rpc "$RPC_PORT" system_version | jq -r .result)
echo "==> chain: $chain | runtime: $version | node: emr-node $node_version"
echo "==> JSON-RPC at http://127.0.0.1:$RPC_PORT; watching blocks for ${SECONDS_TO_RUN}s"
echo "    (Aura authors a block every 6 s; GRANDPA finalizes it shortly after)"

last_best=-1
last_final=-1
end=$((SECONDS + SECONDS_TO_RUN))
while [ "$SECONDS" -lt "$end" ]; do
	header=$(rpc "$RPC_PORT" chain_getHeader)
	best=$(($(jq -r .result.number <<<"$header")))
	fin_hash=$(rpc "$RPC_PORT" chain_getFinalizedHead | jq -r .result)
	fin=$(($(rpc "$RPC_PORT" chain_getHeader "[\"$fin_hash\"]" | jq -r .result.number)))
	if [ "$best" -ne "$last_best" ]; then
		hash=$(rpc "$RPC_PORT" chain_getBlockHash "[$best]" | jq -r .result)
		xts=$(rpc "$RPC_PORT" chain_getBlock "[\"$hash\"]" | jq '.result.block.extrinsics | length')
		printf '  [%3ss] included  #%-4s %s  (%s extrinsic(s))\n' "$SECONDS" "$best" "${hash:0:18}…" "$xts"
		last_best=$best
	fi
	if [ "$fin" -ne "$last_final" ]; then
		if [ "$last_final" -lt 1 ] && [ "$fin" -ge 1 ]; then FIRST_FINAL_AT=$SECONDS; fi
		printf '  [%3ss] finalized #%-4s %s\n' "$SECONDS" "$fin" "${fin_hash:0:18}…"
		last_final=$fin
	fi
	sleep 1
done

if [ "$last_final" -lt 1 ]; then
	echo "==> FAILED: no block was finalized in ${SECONDS_TO_RUN}s; see $RUN_DIR/node.log" >&2
	exit 1
fi
echo "==> done: best #$last_best, finalized #$last_final; first block finalized ${FIRST_FINAL_AT}s after the node was started"
