#!/usr/bin/env bash
# Measures what docs/benchmarks.md reports that is not a build time:
#   scripts/bench.sh node    time from starting `emr-node --dev` to its first finalized block
#                            (RUNS runs, default 5), min/median/max
#   scripts/bench.sh prover  Groth16 setup, proving and verification for BATCH_SIZES (default
#                            "4 16 64"): wall time and peak memory of each step, constraints,
#                            proven operations per second; then the criterion benches (unless
#                            CRITERION=0). BASELINE_REV=<git rev> (built in a worktree) or
#                            BASELINE_BIN=<emr-prover> adds the same rows for that version,
#                            measured alternately with this one
#   scripts/bench.sh client  the client's encryption + storage throughput (criterion)
#   scripts/bench.sh l2      L2 operations included per second by one `--dev` node: the load
#                            generator `emr-l2-load` submits pre-signed operations of ACTORS
#                            (default 400) actors, OPS (default 5) each, over RPC
#   scripts/bench.sh worker  the prover worker in a --dev node (`--prover`) at WORKER_SLOTS
#                            (default "4 16") slots: ACTORS (default 64) registrations, time
#                            from each one's inclusion to its batch's proof (median, max),
#                            proven operations/s, and the worker's own mean proving time
#   scripts/bench.sh weights regenerates the weights.rs of pallet_rollup, pallet_emr_validators
#                            and pallet_emr_eth_bridge (PALLETS="…" for some of them): builds
#                            emr-node with `--features runtime-benchmarks` and runs their FRAME
#                            benchmarks (STEPS default 50, REPEAT default 20) in wasm; the
#                            normal node is rebuilt afterwards
#   scripts/bench.sh profile where the time and memory of proving one batch of SLOTS (default
#                            16) go: `emr-prover profile` (key loading, matrices, witness,
#                            synthesis, FFTs, each MSM; the ark-groth16 reference path beside
#                            the cached-matrix prover)
#   scripts/bench.sh beefy   BEEFY on the four-hospital devnet (the finality test, its figures
#                            printed): time from a batch's proof to a BEEFY-signed MMR root that
#                            covers it, and the size of a justification + MMR leaf + proof for
#                            4, 5 and 16 validators (what a relayer sends Ethereum)
#   scripts/bench.sh         all four (not weights, not profile, not beefy)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$ROOT/scripts/setup.sh"
what="${1:-all}"

# One row of the prover table: setup, prove (wall time and peak memory) and verify of an
# example batch of $3 entries with the emr-prover binary $2, labelled $1.
prover_row() {
	local label="$1" bin="$2" n="$3" dir
	dir=$(mktemp -d -t emr-bench-prover-XXXXXX)
	/usr/bin/time -f '%e %M' -o "$dir/setup.time" "$bin" setup --batch-size "$n" --out "$dir/keys" >"$dir/setup.log"
	"$bin" example-batch --entries "$n" --out "$dir/batch" >/dev/null
	/usr/bin/time -f '%e %M' -o "$dir/prove.time" "$bin" prove --keys "$dir/keys" --state "$dir/state" \
		--batch "$dir/batch" --out "$dir/proof" >"$dir/prove.log" 2>&1
	local verify_ms=()
	for _ in 1 2 3 4 5; do
		verify_ms+=("$("$bin" verify --keys "$dir/keys" --proof "$dir/proof" | sed -E 's/.*\(([0-9.]+) ms\).*/\1/')")
	done
	local constraints setup_s setup_kb prove_s prove_kb vmed
	constraints=$(sed -nE 's/^constraints = ([0-9]+).*/\1/p' "$dir/setup.log")
	read -r setup_s setup_kb <"$dir/setup.time"
	read -r _ prove_kb <"$dir/prove.time"
	prove_s=$(sed -nE 's/^proved in ([0-9.]+) s/\1/p' "$dir/prove.log")
	vmed=$(printf '%s\n' "${verify_ms[@]}" | sort -n | sed -n 3p)
	printf '%-9s %6s %11s %9s %10s %9s %10s %10s %8.2f\n' "$label" "$n" "$constraints" "$setup_s" $((setup_kb / 1024)) \
		"$prove_s" $((prove_kb / 1024)) "$vmed" "$(awk -v n="$n" -v t="$prove_s" 'BEGIN{print n/t}')"
	rm -rf "$dir"
}

# The emr-prover of git revision $1, built in a worktree with its own target directory (for
# side-by-side figures of two circuit versions); prints the binary's path.
baseline_prover() {
	local rev="$1" tree="$HOME/.cache/emr-chain/baseline-src" target="$HOME/.cache/emr-chain/target-baseline"
	rm -rf "$tree"
	git -C "$ROOT" worktree prune
	git -C "$ROOT" worktree add --detach "$tree" "$rev" >&2
	(cd "$tree" && CARGO_TARGET_DIR="$target" cargo build --release --locked --bin emr-prover >&2)
	git -C "$ROOT" worktree remove --force "$tree" >&2
	echo "$target/release/emr-prover"
}

bench_prover() {
	echo "==> prover (batch sizes ${BATCH_SIZES:-4 16 64})"
	build_node >/dev/null
	local bin="$CARGO_TARGET_DIR/release/emr-prover" base=""
	# BASELINE_REV (a git revision) or BASELINE_BIN (an emr-prover binary): the same rows for
	# that version too, each batch size measured with both, one after the other.
	if [ -n "${BASELINE_REV:-}" ]; then base=$(baseline_prover "$BASELINE_REV"); fi
	if [ -n "${BASELINE_BIN:-}" ]; then base="$BASELINE_BIN"; fi
	printf '%-9s %6s %11s %9s %10s %9s %10s %10s %8s\n' version slots constraints setup_s setup_MiB prove_s prove_MiB verify_ms ops/s
	for n in ${BATCH_SIZES:-4 16 64}; do
		if [ -n "$base" ]; then prover_row baseline "$base" "$n"; fi
		prover_row this "$bin" "$n"
	done
	"$bin" constraints
	if [ "${CRITERION:-1}" = 1 ]; then (cd "$ROOT" && cargo bench --locked -p emr-circuit); fi
}

bench_profile() {
	local n="${SLOTS:-16}" dir
	echo "==> prover profile ($n slots)"
	build_node >/dev/null
	local bin="$CARGO_TARGET_DIR/release/emr-prover"
	dir=$(mktemp -d -t emr-bench-profile-XXXXXX)
	"$bin" setup --batch-size "$n" --out "$dir/keys" >/dev/null
	"$bin" example-batch --entries "$n" --out "$dir/batch" >/dev/null
	"$bin" profile --keys "$dir/keys" --batch "$dir/batch"
	rm -rf "$dir"
}

bench_client() {
	echo "==> client"
	(cd "$ROOT" && cargo bench --locked -p emr-client)
}

bench_node() {
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
}

bench_l2() {
	echo "==> L2 operations per second (one --dev node, ${ACTORS:-400} actors x ${OPS:-5} operations)"
	build_node >/dev/null
	local port="${EMR_BENCH_RPC_PORT:-9989}" dir
	dir=$(mktemp -d -t emr-bench-l2-XXXXXX)
	"$NODE_BIN" --dev --base-path "$dir" --rpc-port "$port" --port 0 --no-prometheus --no-telemetry \
		--rpc-max-connections 1000 --pool-limit 100000 --pool-kbytes 1000000 >"$dir/node.log" 2>&1 &
	local pid=$!
	wait_rpc "$port"
	"$CARGO_TARGET_DIR/release/emr-l2-load" --rpc-port "$port" --actors "${ACTORS:-400}" \
		--ops-per-actor "${OPS:-5}" --threads "${THREADS:-8}" || { kill "$pid"; exit 1; }
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}

# One --dev node with the prover worker inside, for a circuit of $1 slots: 4 uses the dev
# chain's own keys; other sizes get a fresh setup and a dev chain spec whose genesis verifying
# key is that setup's. The load generator submits ACTORS registrations and waits until their
# batches are proven; the worker's own proving times come from its Prometheus metrics.
bench_worker_at() {
	local slots="$1" port="${EMR_BENCH_RPC_PORT:-9989}" prom="${EMR_BENCH_PROMETHEUS_PORT:-9988}"
	local dir keys chain=(--dev)
	dir=$(mktemp -d -t emr-bench-worker-XXXXXX)
	if [ "$slots" = 4 ]; then
		keys=$("$ROOT/scripts/dev-keys.sh" | tail -1)
	else
		keys="$dir/keys"
		"$CARGO_TARGET_DIR/release/emr-prover" setup --batch-size "$slots" --out "$keys" >/dev/null
		"$NODE_BIN" build-spec --chain dev 2>/dev/null >"$dir/dev.json"
		python3 - "$dir/dev.json" "$keys/verifying.key" "$slots" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
vk = list(open(sys.argv[2], "rb").read())
spec["genesis"]["runtimeGenesis"]["patch"]["rollup"]["verifyingKey"] = [vk, int(sys.argv[3])]
json.dump(spec, open(sys.argv[1], "w"))
PY
		chain=(--chain "$dir/dev.json" --alice --validator --force-authoring
			--node-key 0000000000000000000000000000000000000000000000000000000000000001)
	fi
	echo "==> prover worker in a --dev node, $slots slots, ${ACTORS:-64} registrations"
	"$NODE_BIN" "${chain[@]}" --base-path "$dir/data" --rpc-port "$port" --port 0 \
		--prometheus-port "$prom" --no-telemetry --prover --prover-keys "$keys" >"$dir/node.log" 2>&1 &
	local pid=$!
	wait_rpc "$port"
	"$CARGO_TARGET_DIR/release/emr-l2-load" --rpc-port "$port" --actors "${ACTORS:-64}" \
		--ops-per-actor 1 --threads 2 --until-proven 1 | grep -E "^(inclusion|submitted)" ||
		{ tail -20 "$dir/node.log"; kill "$pid"; exit 1; }
	"$CARGO_TARGET_DIR/release/emr-prover" status --metrics "http://127.0.0.1:$prom/metrics" |
		grep -E "our proofs final|mean proving"
	grep -E "proving key loaded" "$dir/node.log" | sed -E 's/^.*(proving key loaded)/\1/' | head -1
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}

bench_worker() {
	build_node >/dev/null
	for n in ${WORKER_SLOTS:-4 16}; do bench_worker_at "$n"; done
}

# Where each benchmarked pallet's generated weights go.
declare -A WEIGHTS_FILE=(
	[pallet_rollup]=pallets/rollup/src/weights.rs
	[pallet_emr_validators]=pallets/validators/src/weights.rs
	[pallet_emr_eth_bridge]=pallets/eth-bridge/src/weights.rs
)

bench_weights() {
	local pallets="${PALLETS:-pallet_rollup pallet_emr_validators pallet_emr_eth_bridge}" pallet
	for pallet in $pallets; do
		[ -n "${WEIGHTS_FILE[$pallet]:-}" ] || { echo "no weights file for $pallet" >&2; return 1; }
	done
	echo "==> FRAME benchmarks of $pallets"
	local status=0
	# frame-benchmarking-cli's storage-access test runtime is only for `benchmark storage`; its
	# wasm build cannot find itself now that the CLI is an optional dependency, so skip it.
	(cd "$ROOT" && SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1 \
		cargo build --release --locked -p emr-node --features runtime-benchmarks 2>&1) |
		drop_overseer_noise || status=$?
	[ "$status" -eq 0 ] || { echo "the benchmark build failed (exit $status)" >&2; return "$status"; }
	local bin="$CARGO_TARGET_DIR/release/emr-node-benchmarks"
	cp "$NODE_BIN" "$bin"
	for pallet in $pallets; do
		echo "==> $pallet -> ${WEIGHTS_FILE[$pallet]}"
		(cd "$ROOT" && "$bin" benchmark pallet \
			--runtime "$CARGO_TARGET_DIR/release/wbuild/emr-runtime/emr_runtime.compact.compressed.wasm" \
			--genesis-builder=runtime --genesis-builder-preset development --pallet "$pallet" --extrinsic '*' \
			--steps "${STEPS:-50}" --repeat "${REPEAT:-20}" --wasm-execution compiled \
			--heap-pages 4096 --template scripts/templates/weights.hbs \
			--output "${WEIGHTS_FILE[$pallet]}")
	done
	build_node >/dev/null
}

bench_beefy() {
	build_node
	echo "==> BEEFY figures (tests/tests/finality.rs, printed)"
	cargo test --release --locked --workspace --test finality -- --nocapture --test-threads=1 2>&1 |
		grep -E '^(BEEFY|proven|settlement|5 validators|16 validators|test result)'
}

bench_settlement() {
	echo "==> gas on anvil (prover/settlement/tests/settlement.rs gas_report; EMR_GAS_SLOTS=${EMR_GAS_SLOTS:-4,16})"
	"$ROOT/scripts/l1.sh" install >/dev/null
	cargo test --release --locked -p emr-settlement --test settlement -- --ignored --nocapture gas_report 2>&1 |
		grep -E '^(operation|BeefyClient|EmrRollup|EmrL1Baseline|submit|baseline|test result)'
}

case "$what" in
weights) bench_weights ;;
beefy) bench_beefy ;;
settlement) bench_settlement ;;
l2) bench_l2 ;;
worker) bench_worker ;;
node) bench_node ;;
prover) bench_prover ;;
profile) bench_profile ;;
client) bench_client ;;
all) bench_node; bench_prover; bench_client; bench_l2 ;;
*) echo "usage: scripts/bench.sh [node|prover|profile|client|l2|worker|weights|beefy|settlement|all]" >&2; exit 2 ;;
esac
