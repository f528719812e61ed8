#!/usr/bin/env bash
# Runs every test binary of the workspace (what `cargo test --release --workspace` runs), several
# binaries at a time.
#
# `cargo test` runs its test binaries one after another. Most of the time of ours is spent by the
# end-to-end binaries waiting for blocks (6 s each), finality, batches and Ethereum confirmations,
# not computing, so running a few binaries side by side shortens the run without starving any.
# The slowest binaries start first (their names in SLOW_FIRST); every binary still runs its own
# tests on two threads, from its package's directory, as cargo would.
#
# Usage: scripts/run-tests.sh [JOBS]   (JOBS: binaries at a time, default $EMR_TEST_JOBS or 3)
# Each binary's whole output is printed when it ends; the run fails if any binary fails, after
# all have run. EMR_TEST_JOBS=1 gives cargo's order and timing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

JOBS="${1:-${EMR_TEST_JOBS:-3}}"
# Measured durations (docs/benchmarks.md): finality 343 s, client 252 s, prover 222 s,
# settlement (e2e) 167 s, light 127 s, rejections 103 s, rollup 96 s, dev_node 36 s, batch_prover 33 s,
# worker 31 s, properties 28 s.
SLOW_FIRST=(finality client prover settlement light rejections rollup dev_node batch_prover worker properties)

LOGS="$(mktemp -d "${TMPDIR:-/tmp}/emr-tests.XXXXXX")"
trap 'rm -rf "$LOGS"' EXIT

echo "==> cargo test --release --no-run (the test binaries; built by the build step)"
cargo test --release --locked --workspace --no-run --message-format=json 2>"$LOGS/build.err" |
	jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null)
		| "\(.target.name)\t\(.manifest_path | sub("/Cargo.toml$"; ""))\t\(.executable)"' \
		>"$LOGS/all.tsv" || {
	cat "$LOGS/build.err" >&2
	exit 1
}

# Slow binaries first, in SLOW_FIRST's order, then the rest in cargo's order.
: >"$LOGS/queue.tsv"
for name in "${SLOW_FIRST[@]}"; do
	awk -F'\t' -v n="$name" '$1 == n' "$LOGS/all.tsv" >>"$LOGS/queue.tsv"
done
awk -F'\t' 'NR == FNR { slow[$1] = 1; next } !($1 in slow)' \
	<(printf '%s\n' "${SLOW_FIRST[@]}") "$LOGS/all.tsv" >>"$LOGS/queue.tsv"
total=$(wc -l <"$LOGS/queue.tsv")
echo "==> running $total test binaries, $JOBS at a time"

# One binary: run it from its package's directory, keep its output, print it whole when it ends.
run_one() {
	local name="$1" dir="$2" exe="$3" logs="$4"
	local id log start status=0
	id="$(basename "$exe")"
	log="$logs/$id.log"
	start=$(date +%s)
	(cd "$dir" && "$exe" --test-threads=2) >"$log" 2>&1 || status=$?
	local took=$(($(date +%s) - start))
	{
		flock 9
		echo "---- $name ($dir, ${took} s, exit $status)"
		cat "$log"
		if [ "$status" -ne 0 ]; then echo "$name ($id)" >>"$logs/failed"; fi
	} 9>"$logs/print.lock"
}
export -f run_one

tr '\t' '\n' <"$LOGS/queue.tsv" | tr '\n' '\0' |
	xargs -0 -n 3 -P "$JOBS" bash -c 'run_one "$1" "$2" "$3" "'"$LOGS"'"' _

if [ -s "$LOGS/failed" ]; then
	echo "==> FAILED test binaries:" >&2
	sed 's/^/    /' "$LOGS/failed" >&2
	exit 1
fi
echo "==> all $total test binaries passed"
