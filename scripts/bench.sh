#!/usr/bin/env bash
# Measures what docs/benchmarks.md reports that is not a build time:
#   - time from starting `emr-node --dev` to its first finalized block (RUNS runs, default 5).
# Prints one line per run and the min/median/max.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
RUNS="${RUNS:-5}"
PORT="${EMR_BENCH_RPC_PORT:-9988}"
build_node >/dev/null

times=()
for run in $(seq 1 "$RUNS"); do
	dir=$(mktemp -d -t emr-bench-XXXXXX)
	start=$(date +%s.%N)
	"$NODE_BIN" --dev --base-path "$dir" --rpc-port "$PORT" --port 0 --no-prometheus \
		--no-telemetry >"$dir/node.log" 2>&1 &
	pid=$!
	result=""
	for _ in $(seq 1 1200); do
		hash=$(rpc "$PORT" chain_getFinalizedHead 2>/dev/null | jq -r '.result // empty' 2>/dev/null || true)
		if [ -n "$hash" ]; then
			num=$(rpc "$PORT" chain_getHeader "[\"$hash\"]" | jq -r '.result.number // "0x0"')
			if [ $((num)) -ge 1 ]; then result=$(awk -v a="$(date +%s.%N)" -v b="$start" "BEGIN{print a-b}"); break; fi
		fi
		sleep 0.1
	done
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
	[ -n "$result" ] || { echo "run $run: no finalized block within 120 s" >&2; exit 1; }
	printf 'run %s: first finalized block after %.1f s\n' "$run" "$result"
	times+=("$result")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "min %.1f s, median %.1f s, max %.1f s over %d runs\n", a[1], a[int((NR+1)/2)], a[NR], NR}'
